-- Argo CD "refresh" action for a baosync.io ExternalSecret or PushSecret: a new
-- value of the baosync.io/force-sync annotation makes baosync read the store
-- (or push the Secret) now, whatever the refresh interval or sync windows.
-- Only the os library's date function is used, as Argo CD provides it.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["baosync.io/force-sync"] = os.date("!%Y-%m-%dT%XZ")
return obj
