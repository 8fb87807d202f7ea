using System.Globalization;
using System.Text.RegularExpressions;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Payments.Tests.Pitfalls;

/// <summary>
/// <c>Payments:Pitfalls:SyncOverAsync</c> in a real child process (thread-pool starvation is per process,
/// so it cannot be shown in the test host). The same bounded burst of slow GetBalance calls runs against
/// the switch off and on; the thread-pool lag histogram from the child's <c>/metrics</c> gains samples
/// above 0.1 s only when blocking waits pin the pool's threads.
/// </summary>
public sealed partial class SyncOverAsyncProcessTests : IDisposable
{
    private const string Tenant = "acme";
    private const int Burst = 64;
    private const int Waves = 2;
    private const double SlowLagSeconds = 0.1;
    private readonly string _root = Directory.CreateTempSubdirectory("mesh-payments-pitfall-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetBalance_SyncOverAsyncOnVersusOff_OnlyOnRaisesThreadPoolLag()
    {
        // Arrange / Act: one process at a time, so they do not disturb each other.
        var off = await SlowLagSamplesDuringBurstAsync(syncOverAsync: false);
        var on = await SlowLagSamplesDuringBurstAsync(syncOverAsync: true);

        // Assert: direction only (the cores are shared), no latency thresholds.
        Assert.True(on > 0, $"sync-over-async on: no thread-pool lag sample above {SlowLagSeconds} s");
        Assert.True(on > off, $"lag samples above {SlowLagSeconds} s: on {on}, off {off}");
    }

    public void Dispose()
    {
        TempDirectories.TryDelete(_root);
    }

    private async Task<long> SlowLagSamplesDuringBurstAsync(bool syncOverAsync)
    {
        var mode = syncOverAsync ? "on" : "off";
        await using var payments = await HostProcess.StartAsync(
            MeshProcesses.PaymentsProject,
            new Dictionary<string, string?>
            {
                ["Payments:DataDirectory"] = Path.Combine(_root, mode),
                ["Payments:Seed"] = "false",
                ["Payments:Pitfalls:SyncOverAsync"] = syncOverAsync ? "true" : "false",
                // A 200 ms query: an awaited timer when off, a pinned pool thread when on.
                ["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.200",
                ["Bulkheads:payments-read:PermitLimit"] = Burst.ToString(CultureInfo.InvariantCulture),
                ["Bulkheads:payments-read:QueueLimit"] = Burst.ToString(CultureInfo.InvariantCulture),
                ["Bulkheads:payments-read:MaxQueueTime"] = "00:00:01",
            },
            Ct);
        try
        {
            var client = new PaymentsService.PaymentsServiceClient(payments.CreateChannel());
            var headers = new Metadata { { "x-tenant-id", Tenant } };
            await client.ChargeAsync(PaymentsHostScope.Charge("lag-1", 100), headers, cancellationToken: Ct);
            using var admin = payments.CreateAdminClient();
            var before = await ReadLagAsync(admin);

            for (var wave = 0; wave < Waves; wave++)
            {
                await Task.WhenAll(Enumerable.Range(0, Burst).Select(async _ =>
                {
                    try
                    {
                        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "lag-1" }, headers, cancellationToken: Ct);
                    }
                    catch (RpcException)
                    {
                        // Under starvation some calls miss their deadline; only the lag matters here.
                    }
                })).DefaultTimeout();
            }

            // Probes queued during the burst record when they finally run: wait for a few more samples.
            var after = await ReadLagAsync(admin);
            for (var i = 0; i < 50 && after.Count < before.Count + 5; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
                after = await ReadLagAsync(admin);
            }

            var slowBefore = before.Count - before.AtMostSlow;
            var slowAfter = after.Count - after.AtMostSlow;
            TestContext.Current.TestOutputHelper?.WriteLine($"sync-over-async {mode}: lag samples {after.Count - before.Count}, above {SlowLagSeconds} s: {slowAfter - slowBefore}");
            return slowAfter - slowBefore;
        }
        finally
        {
            payments.ReportOutputIfTestFailed();
        }
    }

    private static async Task<(long Count, long AtMostSlow)> ReadLagAsync(HttpClient admin)
    {
        var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        var count = LagCount().Match(text);
        var bucket = LagBucket().Match(text);
        Assert.True(count.Success && bucket.Success, "meshbulkheads_threadpool_lag_seconds is missing from /metrics");
        return (long.Parse(count.Groups["v"].Value, CultureInfo.InvariantCulture), long.Parse(bucket.Groups["v"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^meshbulkheads_threadpool_lag_seconds_count(\{[^}]*\})? (?<v>\d+)", RegexOptions.Multiline)]
    private static partial Regex LagCount();

    [GeneratedRegex(@"^meshbulkheads_threadpool_lag_seconds_bucket\{[^}]*le=""0\.1""[^}]*\} (?<v>\d+)", RegexOptions.Multiline)]
    private static partial Regex LagBucket();
}
