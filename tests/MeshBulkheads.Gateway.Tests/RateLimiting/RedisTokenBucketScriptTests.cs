using System.Globalization;
using MeshBulkheads.Gateway.RateLimiting.Redis;
using MeshBulkheads.Testing.Redis;
using StackExchange.Redis;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>
/// The Redis token bucket script on a real redis-server, driven deterministically: the test writes
/// <c>tokens</c>/<c>ts</c> into the hash itself (relative to the server's <c>TIME</c>), runs the
/// script once and reads the state back. Only the microseconds between the test's commands are real time.
/// </summary>
public class RedisTokenBucketScriptTests(RedisFixture redis) : IAsyncLifetime
{
    // Real time between writing the state and the script running; generous for a loaded machine.
    private const double SlackSeconds = 0.5;

    private ConnectionMultiplexer? _connection;
    private readonly string _key = $"test:script:{Guid.NewGuid():N}";

    private IDatabase Database => _connection!.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        if (redis.UnavailableReason is null)
        {
            _connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Script_TokensAndTsWrittenHalfASecondAgo_RefillsByTheServerClock()
    {
        // Arrange: empty bucket, last touched 0.5 s ago, 10 tokens/s → 5 tokens now.
        redis.EnsureAvailable();
        var now = await ServerMicrosecondsAsync();
        await WriteStateAsync(tokens: 0, ts: now - 500_000);

        // Act
        var (allowed, pushbackMs) = await EvaluateAsync(rate: 10, burst: 10, cost: 1);
        var (tokens, ts) = await ReadStateAsync();

        // Assert: took one of the five, stamped the state with the server's time.
        Assert.True(allowed);
        Assert.Equal(0, pushbackMs);
        Assert.InRange(tokens, 4.0, 4.0 + (10 * SlackSeconds));
        Assert.InRange(ts, now, now + (long)(SlackSeconds * 1_000_000));
    }

    [Fact]
    public async Task Script_BucketLacksTheCost_RejectsWithTheTimeUntilItHoldsItAndTakesNothing()
    {
        // Arrange: 2.5 tokens now, a call costing 5 at 10 tokens/s needs 250 ms more.
        redis.EnsureAvailable();
        var now = await ServerMicrosecondsAsync();
        await WriteStateAsync(tokens: 2.5, ts: now);

        // Act
        var (allowed, pushbackMs) = await EvaluateAsync(rate: 10, burst: 10, cost: 5);
        var (tokens, _) = await ReadStateAsync();

        // Assert
        Assert.False(allowed);
        Assert.InRange(pushbackMs, 250 - (long)(SlackSeconds * 1000), 250);
        Assert.InRange(tokens, 2.5, 2.5 + (10 * SlackSeconds));
    }

    [Fact]
    public async Task Script_TsTenSecondsInTheFuture_RejectsOnceThenRefillsFromTheServersNow()
    {
        // Arrange: the server's clock stepped back 10 s after the last call left the bucket empty.
        redis.EnsureAvailable();
        var now = await ServerMicrosecondsAsync();
        await WriteStateAsync(tokens: 0, ts: now + 10_000_000);

        // Act: one call now; then one second passes on the server (written as the state moving back 1 s).
        var (first, firstPushbackMs) = await EvaluateAsync(rate: 10, burst: 10, cost: 1);
        var (_, tsAfterReject) = await ReadStateAsync();
        var after = await ServerMicrosecondsAsync();
        await Database.HashSetAsync(_key, "ts", (tsAfterReject - 1_000_000).ToString(CultureInfo.InvariantCulture));
        var (second, _) = await EvaluateAsync(rate: 10, burst: 10, cost: 1);

        // Assert: the rejection's ts is the server's now, not the future one, so a second later 10
        // tokens are back (with ts left 10 s ahead the bucket stayed empty until the clock caught up).
        Assert.False(first);
        Assert.Equal(100, firstPushbackMs);
        Assert.InRange(tsAfterReject, now, after);
        Assert.True(second);
    }

    [Fact]
    public async Task Script_NoKey_StartsFullAndExpiresOnceRefilled()
    {
        // Arrange
        redis.EnsureAvailable();

        // Act: the whole burst, then one more.
        var (full, _) = await EvaluateAsync(rate: 2, burst: 4, cost: 4);
        var (empty, pushbackMs) = await EvaluateAsync(rate: 2, burst: 4, cost: 1);
        var ttl = await Database.KeyTimeToLiveAsync(_key);

        // Assert: 1 token at 2/s is 500 ms away; the key lives until a full refill (2 s) plus 1 s.
        Assert.True(full);
        Assert.False(empty);
        Assert.InRange(pushbackMs, 500 - (long)(SlackSeconds * 1000), 500);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
    }

    private async Task<long> ServerMicrosecondsAsync()
    {
        var time = (RedisResult[])(await Database.ExecuteAsync("TIME").DefaultTimeout())!;
        return (long.Parse((string)time[0]!, CultureInfo.InvariantCulture) * 1_000_000) + long.Parse((string)time[1]!, CultureInfo.InvariantCulture);
    }

    private Task WriteStateAsync(double tokens, long ts) =>
        Database.HashSetAsync(_key, [new("tokens", tokens.ToString("R", CultureInfo.InvariantCulture)), new("ts", ts.ToString(CultureInfo.InvariantCulture))]).DefaultTimeout();

    private async Task<(double Tokens, long Ts)> ReadStateAsync()
    {
        var state = await Database.HashGetAsync(_key, ["tokens", "ts"]).DefaultTimeout();
        return (double.Parse((string)state[0]!, CultureInfo.InvariantCulture), long.Parse((string)state[1]!, CultureInfo.InvariantCulture));
    }

    private async Task<(bool Allowed, long PushbackMs)> EvaluateAsync(double rate, int burst, int cost)
    {
        var reply = (RedisResult[])(await Database.ScriptEvaluateAsync(RedisTokenBucketScript.Source, [_key], [rate, burst, cost]).DefaultTimeout())!;
        return ((long)reply[0] == 1, (long)reply[1]);
    }
}
