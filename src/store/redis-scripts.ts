/**
 * Lua scripts of the Redis store. resourceVersions stay strings inside Lua: Lua 5.1 prints numbers with 14
 * significant digits, and kubegate's versions (microseconds since the epoch) have 16.
 * Object values in the snapshot hash are `<rv>|<hash>|<body>` (neither rv nor hash contains `|`).
 */

/** KEYS: rv. ARGV: base. Creates the counter at the wall clock if it does not exist. */
export const ENSURE_COUNTER = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
`;

/** KEYS: rv, objects, synced. ARGV: base. Returns {rv, synced, key1, value1, ...}. */
export const LOAD = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local out = { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[3]) or '0' }
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all do out[#out + 1] = all[i] end
return out
`;

/** KEYS: lease, fence. ARGV: holder, ttlMs. Returns the fence when `holder` holds the lease, else -1. */
export const ACQUIRE_LEASE = `
local cur = redis.call('HGET', KEYS[1], 'holder')
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'fence'))
end
if cur then return -1 end
local f = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'fence', f)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return f
`;

/** KEYS: lease. ARGV: holder, fence. */
export const RELEASE_LEASE = `
local l = redis.call('HMGET', KEYS[1], 'holder', 'fence')
if l[1] == ARGV[1] and tonumber(l[2]) == tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS: lease, rv, objects, stream, synced. ARGV: holder, fence, base, maxlen, changes (JSON [{t,k,h,b}]).
 * Checks the fence, then per change: skips no-ops (same hash, delete of a missing key), bumps the counter,
 * updates the snapshot and appends to the stream with the resourceVersion as the entry id. One script: no two
 * replicas can ever give out the same version, and a deposed lease holder writes nothing.
 * Returns {rv, type} per change, in order; both empty for a change skipped as a no-op.
 */
export const COMMIT = `
local l = redis.call('HMGET', KEYS[1], 'holder', 'fence')
if l[1] ~= ARGV[1] or tonumber(l[2]) ~= tonumber(ARGV[2]) then return redis.error_reply('FENCED lease lost') end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[3]) end
local changes = cjson.decode(ARGV[5])
local out = {}
for _, c in ipairs(changes) do
  local cur = redis.call('HGET', KEYS[3], c.k)
  local skip = false
  if c.t == 'DELETED' then
    skip = not cur
  elseif cur then
    local a = string.find(cur, '|', 1, true)
    local b = string.find(cur, '|', a + 1, true)
    skip = string.sub(cur, a + 1, b - 1) == c.h
  end
  if not skip then
    redis.call('INCR', KEYS[2])
    local rv = redis.call('GET', KEYS[2])
    local t = c.t
    if t == 'DELETED' then
      redis.call('HDEL', KEYS[3], c.k)
    else
      if cur then t = 'MODIFIED' else t = 'ADDED' end
      redis.call('HSET', KEYS[3], c.k, rv .. '|' .. c.h .. '|' .. c.b)
    end
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], rv .. '-0', 't', t, 'k', c.k, 'h', c.h, 'b', c.b)
    out[#out + 1] = rv
    out[#out + 1] = t
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
redis.call('SET', KEYS[5], '1')
return out
`;
