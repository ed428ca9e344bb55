-- Argo CD health of a baosync.io object (ExternalSecret, ClusterExternalSecret,
-- PushSecret, SecretStore, ClusterSecretStore), read from its Ready condition.
-- Only Lua's base and table libraries are used, as Argo CD provides them.
local hs = {}
local kind = obj.kind or "object"
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = kind .. " is being deleted"
  return hs
end
local ready = nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for baosync to reconcile the " .. kind
  return hs
end
-- A condition written for an older spec says nothing about the current one.
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for baosync to reconcile generation " .. tostring(generation)
  return hs
end
local message = ready.message or ""
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
  return hs
end
if ready.status ~= "False" then
  hs.status = "Progressing"
  hs.message = message
  return hs
end
-- Throttled clears by itself after a short delay; every other Reason needs
-- the store, the server or the spec fixed, and the Secret may be stale.
if ready.reason == "Throttled" then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
hs.message = (ready.reason or "NotReady") .. ": " .. message
return hs
