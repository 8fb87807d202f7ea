namespace MeshBulkheads.Gateway.RateLimiting.Redis;

/// <summary>
/// The token bucket as one Lua script, so refill, check and take are atomic on the Redis server
/// whichever gateway replica asks.
/// </summary>
/// <remarks>
/// <para>State: a hash <c>{tokens, ts}</c> (tokens may be fractional; <c>ts</c> in microseconds of
/// the server's <c>TIME</c>, so the replicas' clocks never matter). A missing key is a full bucket,
/// which is also what an idle bucket becomes, so the key expires once it would have refilled.</para>
/// <para>Arguments: rate (tokens per second), burst, cost. Reply: <c>{1, 0}</c> when the cost was
/// taken, <c>{0, ms}</c> otherwise, with <c>ms</c> the time until the bucket holds the cost, rounded
/// up (nothing is taken, so a rejected call costs nothing). The rate and burst come from the calling
/// replica's policy on every call: a live tier change applies at once (tokens above a smaller burst
/// are dropped).</para>
/// <para>The state is written on every call, rejected ones too, with <c>ts = now</c>: when the server's
/// clock steps back, a stored <c>ts</c> in the future refills nothing for that step (no burst from a
/// clock jump) and the next call refills from the new <c>now</c>. Writing it only on success left
/// <c>ts</c> in the future, so a bucket that was empty stayed empty until the clock caught up.</para>
/// <para>Numbers are written with <c>string.format</c>: Redis converts a bare Lua number with 14
/// significant digits, too few for a microsecond timestamp.</para>
/// </remarks>
internal static class RedisTokenBucketScript
{
    public const string Source = """
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil then
          tokens = burst
          ts = now
        end
        if now > ts then
          tokens = tokens + (now - ts) * rate / 1000000
        end
        if tokens > burst then
          tokens = burst
        end
        local allowed = tokens >= cost
        if allowed then
          tokens = tokens - cost
        end
        redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', now))
        redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(burst * 1000 / rate) + 1000))
        if not allowed then
          return {0, math.ceil((cost - tokens) * 1000 / rate)}
        end
        return {1, 0}
        """;
}
