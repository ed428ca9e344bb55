-- Argo CD action discovery for a baosync.io ExternalSecret or PushSecret:
-- "refresh" is offered unless the object is being deleted.
local actions = {}
local deleting = obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil
actions["refresh"] = {["disabled"] = deleting}
return actions
