import { createHash } from 'node:crypto';
import type { Redis, RedisKey } from 'ioredis';

/** A Lua script sent by SHA (EVALSHA), and loaded again with EVAL when the server lost it. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: RedisKey[], args: (string | Buffer | number)[]): Promise<unknown> {
    // Passed as one array (ioredis flattens it): a batch can carry tens of thousands of arguments.
    const params: RedisKey[] = [...keys, ...args.map((a) => (typeof a === 'number' ? String(a) : a))];
    try {
      return await redis.evalsha(this.sha, keys.length, params);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, params);
    }
  }
}

/**
 * Compare-and-set over a whole batch, in one round trip.
 *
 * KEYS: every key the batch touches. ARGV, per item:
 *   nChecks, then nChecks x (keyIndex, '1' present | '0' absent, expected bytes),
 *   nOps,    then nOps    x ('S' set | 'D' delete, keyIndex, value, ttlSourceKeyIndex).
 * An item's operations run only if every checked key still holds exactly the bytes the runner read
 * (or is still absent). A set takes the remaining PTTL of its source key, read in the same script,
 * so expiry is kept to the millisecond and keys without expiry stay without.
 * Returns one integer per item: 1 applied, 0 conflict.
 */
export const CAS_BATCH = new LuaScript(`
local out = {}
local a = 1
while a <= #ARGV do
  local ok = true
  local nChecks = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, nChecks do
    if ok then
      local cur = redis.pcall('GET', KEYS[tonumber(ARGV[a])])
      if type(cur) == 'table' then ok = false
      elseif ARGV[a + 1] == '1' then ok = (cur == ARGV[a + 2])
      else ok = (cur == false) end
    end
    a = a + 3
  end
  local nOps = tonumber(ARGV[a])
  a = a + 1
  if ok then
    for i = 0, nOps - 1 do
      local b = a + i * 4
      local key = KEYS[tonumber(ARGV[b + 1])]
      if ARGV[b] == 'S' then
        local ttl = redis.call('PTTL', KEYS[tonumber(ARGV[b + 3])])
        if ttl > 0 then redis.call('SET', key, ARGV[b + 2], 'PX', ttl) else redis.call('SET', key, ARGV[b + 2]) end
      else
        redis.call('DEL', key)
      end
    end
  end
  a = a + nOps * 4
  out[#out + 1] = ok and 1 or 0
end
return out
`);
