
namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// "Fast DB query, slow API" (docs/diagnosis.md): payments on PostgreSQL with a read pool of ONE
/// connection and a burst of concurrent reads. The API gets slower, and
/// <c>meshbulkheads_db_pool_request_time_in_queue_seconds</c> says why: most of each call is spent waiting for a
/// connection, not in the query.
/// </summary>
/// <remarks>
/// Payments exports no query-duration metric (the query is only a <c>db.query</c> span), so "query time
/// stays flat" is read as: the server time NOT spent waiting for the pool
/// (<c>meshbulkheads_rpc_server_duration_seconds</c> − pool wait, per call) stays small while the pool
/// wait grows to dominate the call. Deltas of two <c>/metrics</c> scrapes, so earlier tests don't count;
/// the recording rule Prometheus computes (<c>meshbulkheads:db_pool_wait_p99:seconds_rate5m</c>) is checked too.
/// </remarks>
[Collection(DiagnosisCollection.Name)]
public sealed class FastDbQuerySlowApiTests(DiagnosisMesh fixture) : IDisposable
{
    private const string PoolWaitMetric = "meshbulkheads_db_pool_request_time_in_queue_seconds";
    private const string ServerDurationMetric = "meshbulkheads_rpc_server_duration_seconds";
    private const string QueryDurationMetric = "meshbulkheads_db_query_duration_seconds";

    // = the payments-read bulkhead's PermitLimit: every read of a round is admitted, so the only queue
    // in front of the one connection is the pool's.
    private const int Concurrency = 16;
    private const int Rounds = 4;

    [Fact]
    public async Task GetBalance_ReadPoolOfOneUnderConcurrentReads_PoolWaitDominatesServerTime()
    {
        // Arrange
        fixture.EnsurePostgres();
        var ct = TestContext.Current.CancellationToken;
        var client = new PaymentsService.PaymentsServiceClient(fixture.Mesh.Payments.CreateChannel());
        using var admin = fixture.Mesh.Payments.CreateAdminClient();
        var headers = new Metadata { { "x-tenant-id", "acme" } };
        Task<GetBalanceResponse> Read(int i) => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = string.Create(CultureInfo.InvariantCulture, $"acct-{1 + (i % 100):0000}") },
            headers, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync;
        for (var i = 0; i < 5; i++)
        {
            await Read(i).DefaultTimeout();
        }

        // Prometheus must have scraped the read-pool series once before the burst: the whole test
        // can finish inside one 1 s scrape interval, and rate() needs an increase between two scrapes.
        await fixture.Prometheus.WaitUntilAsync(
            "meshbulkheads_db_pool_request_time_in_queue_seconds_count{service=\"payments\", meshbulkheads_pool=\"read\"}",
            r => r.Count == 1 && r[0].Value >= 5,
            TimeSpan.FromSeconds(20),
            ct);

        // Act: sequential reads (no contention), then rounds of concurrent ones.
        var start = await MetricsScrape.ReadAsync(admin, ct);
        for (var i = 0; i < 20; i++)
        {
            await Read(i).DefaultTimeout();
        }

        var afterSequential = await MetricsScrape.ReadAsync(admin, ct);
        for (var round = 0; round < Rounds; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(Read)).DefaultTimeout();
        }

        var afterBurst = await MetricsScrape.ReadAsync(admin, ct);

        // Assert
        var sequential = Split.Between(start, afterSequential);
        var burst = Split.Between(afterSequential, afterBurst);
        TestContext.Current.TestOutputHelper?.WriteLine($"sequential: {sequential}{Environment.NewLine}burst:      {burst}");
        Assert.Equal(20, sequential.Calls);
        Assert.Equal(Concurrency * Rounds, burst.Calls);
        // Relative to the query, not an absolute number of ms: 16 callers on one connection wait for
        // several queries each, however fast the machine runs a query.
        Assert.True(burst.PoolWait > sequential.PoolWait + (2 * burst.Query), $"Pool wait should rise under the burst by several queries' worth. Sequential: {sequential}; burst: {burst}");
        Assert.True(burst.PoolWait > 0.5 * burst.Server, $"Under the burst most of a call should be pool wait. {burst}");
        Assert.True(sequential.PoolWait < 0.5 * sequential.Server, $"Without contention pool wait should be a minor part of a call. {sequential}");
        // "Query time stays flat": what is not pool wait (query + gRPC) grows far less than the call.
        Assert.True(burst.Rest < (3 * sequential.Rest) + 0.005, $"The time outside the pool wait should stay flat. Sequential: {sequential}; burst: {burst}");
        // The query-duration metric says the same on its own: the database is not what got slow.
        Assert.True(sequential.Query > 0 && burst.Query > 0, $"Query duration should be recorded. Sequential: {sequential}; burst: {burst}");
        Assert.True(burst.Query < (3 * sequential.Query) + 0.005, $"Query duration should stay flat while pool wait grows. Sequential: {sequential}; burst: {burst}");
        Assert.True(burst.PoolWait > burst.Query, $"Under the burst the pool wait, not the query, should dominate. {burst}");

        var p99 = await fixture.Prometheus.WaitUntilAsync(
            "meshbulkheads:db_pool_wait_p99:seconds_rate5m{service=\"payments\", meshbulkheads_pool=\"read\"}",
            r => r.Count == 1 && r[0].Value > 2 * burst.Query,
            TimeSpan.FromSeconds(20),
            ct);
        Assert.Equal("postgresql", (await fixture.Prometheus.QueryAsync("meshbulkheads_db_pool_permit_limit{service=\"payments\", meshbulkheads_pool=\"read\"}", ct)).Single()["db_system"]);
        TestContext.Current.TestOutputHelper?.WriteLine($"recorded read-pool wait p99: {p99[0]}");
    }

    public void Dispose() => fixture.ReportOutputIfTestFailed();

    /// <summary>Mean seconds per GetBalance call: at the server, waiting for the read pool, and the rest.</summary>
    private sealed record Split(double Calls, double Server, double PoolWait, double Query)
    {
        public double Rest => Server - PoolWait;

        public static Split Between(MetricsScrape before, MetricsScrape after)
        {
            (string, string)[] getBalanceOk = [("rpc_method", "GetBalance"), ("rpc_grpc_status_code", "OK")];
            (string, string)[] readPool = [("meshbulkheads_pool", "read"), ("db_system", "postgresql")];
            var calls = after.Sum(ServerDurationMetric + "_count", getBalanceOk) - before.Sum(ServerDurationMetric + "_count", getBalanceOk);
            var server = after.Sum(ServerDurationMetric + "_sum", getBalanceOk) - before.Sum(ServerDurationMetric + "_sum", getBalanceOk);
            var waits = after.Sum(PoolWaitMetric + "_count", readPool) - before.Sum(PoolWaitMetric + "_count", readPool);
            var wait = after.Sum(PoolWaitMetric + "_sum", readPool) - before.Sum(PoolWaitMetric + "_sum", readPool);
            var queries = after.Sum(QueryDurationMetric + "_count", readPool) - before.Sum(QueryDurationMetric + "_count", readPool);
            var query = after.Sum(QueryDurationMetric + "_sum", readPool) - before.Sum(QueryDurationMetric + "_sum", readPool);
            return new Split(calls, calls > 0 ? server / calls : 0, waits > 0 ? wait / waits : 0, queries > 0 ? query / queries : 0);
        }

        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"{Calls} calls, server {Server * 1000:0.00} ms, pool wait {PoolWait * 1000:0.00} ms, query (connection held) {Query * 1000:0.00} ms, rest (query + gRPC) {Rest * 1000:0.00} ms per call");
    }
}
