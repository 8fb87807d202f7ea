using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Contracts.Render.V1;
using Microsoft.Extensions.Configuration;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

public sealed class BulkheadInterceptorResolvedMethodTests
{
    private const string CaseVariantPath = "/MESHBULKHEADS.render.v1.RenderService/RENDER";

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Deadlines:AllMethods:Default"] = "00:00:05",
        ["Deadlines:AllMethods:Max"] = "00:00:30",
        ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/Render:Default"] = "00:00:02",
        ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/Render:Max"] = "00:00:30",
    };

    [Fact]
    public async Task Render_CaseVariantPathWhileBulkheadFull_GatedByTheResolvedMethodsBulkhead()
    {
        // Arrange: the one permit is held and the one queue slot taken. The bulkhead runs on a clock that
        // stands still, so the waiter is not shed at MaxQueueTime however slowly a loaded machine polls.
        await using var host = await StartWithHeldPermitAsync();
        var (address, probe, client, bulkhead) = (host.Address, host.Probe, host.Client, host.Bulkhead);
        var held = await host.HoldPermitAsync();
        var queued = client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => bulkhead.QueuedCount == 1);
        using var http = new HttpClient();

        // Act: routing matches the path case-insensitively, so this reaches Render.
        var variant = await RawGrpcCall.SendAsync(http, address, CaseVariantPath, new RenderRequest { Width = 2 }).DefaultTimeout();
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();
        await queued.ResponseAsync.DefaultTimeout();

        // Assert: the render bulkhead decided it (queue full), the handler did not run a third time.
        Assert.Equal("14", variant.GrpcStatus);
        Assert.Equal("queue-full", variant.RejectReason);
        Assert.Equal(2, probe.Started);
    }

    [Fact]
    public async Task Render_CaseVariantPathsWithoutGrpcTimeout_ResolvedMethodsDeadlineAndOneCacheEntry()
    {
        // Arrange
        await using var host = await InterceptorHost.StartAsync(s_settings);
        using var http = new HttpClient();
        string[] paths = [CaseVariantPath, "/meshbulkheads.render.v1.renderservice/render", "/MeshBulkheads.Render.V1.RenderService/Render", "/meshbulkheads.render.v1.RenderService/Render"];

        // Act
        var deadlines = new List<(TimeSpan SinceSent, TimeSpan SinceAnswered)>();
        foreach (var path in paths)
        {
            var before = DateTime.UtcNow;
            var result = await RawGrpcCall.SendAsync(http, host.Address, path, new RenderRequest { Width = 2 }).DefaultTimeout();
            var after = DateTime.UtcNow;
            Assert.Equal("0", result.GrpcStatus);
            deadlines.Add((host.Probe.LastDeadline - before, host.Probe.LastDeadline - after));
        }

        // Assert: Render's own default (2 s), not AllMethods' 5 s, whatever the spelling; one route cache entry. The
        // deadline starts when the server receives the call, somewhere between sending and the answer (a loaded
        // machine delayed one call by 3 s in a full run): at least 1 s after sending, at most 3 s after the answer.
        Assert.All(deadlines, d =>
        {
            Assert.True(d.SinceSent >= TimeSpan.FromSeconds(1), $"deadline {d.SinceSent} after sending");
            Assert.True(d.SinceAnswered <= TimeSpan.FromSeconds(3), $"deadline {d.SinceAnswered} after the answer");
        });
        Assert.Equal(1, host.Services.GetRequiredService<BulkheadInterceptor>().CachedMethodCount);
    }

    [Fact]
    public async Task Render_UnknownCriticalityAtFullQueue_InvalidArgumentAndSheddableWaiterKept()
    {
        // Arrange: permit held, a sheddable waiter in the one queue slot (on a clock that stands still, as above).
        await using var host = await StartWithHeldPermitAsync();
        var (probe, client, bulkhead) = (host.Probe, host.Client, host.Bulkhead);
        var held = await host.HoldPermitAsync();
        var sheddable = client.RenderAsync(new RenderRequest { Width = 2 }, new Metadata { { "x-mesh-criticality", "sheddable" } }, DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => bulkhead.QueuedCount == 1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(
            new RenderRequest { Width = 2 }, new Metadata { { "x-mesh-criticality", "urgent" } }, DateTime.UtcNow.AddSeconds(10)).ResponseAsync.DefaultTimeout());
        var queuedAfter = bulkhead.QueuedCount;
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();
        var sheddableResponse = await sheddable.ResponseAsync.DefaultTimeout();

        // Assert: refused at admission; it displaced nobody.
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("invalid-criticality", error.Trailers.GetValue("x-mesh-reject-reason"));
        Assert.Contains("'critical' or 'sheddable'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, queuedAfter);
        Assert.Equal("ok", sheddableResponse.Sha256);
        Assert.Equal(2, probe.Started);
    }

    [Fact]
    public async Task Render_DeadlinesReloaded_NewDefaultAppliesAndInvalidReloadKeepsLastGood()
    {
        // Arrange
        await using var host = await InterceptorHost.StartAsync(s_settings);
        var (probe, client) = (host.Probe, host.Client);
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        using var failures = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.config.reload_failures");

        // Act: a valid reload (Render's default 2 s → 8 s), then an invalid one (Default above Max).
        configuration["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/Render:Default"] = "00:00:08";
        configuration.Reload();
        var validWindow = await CallAndBracketAsync();
        configuration["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/Render:Default"] = "00:01:00";
        configuration.Reload();
        var invalidWindow = await CallAndBracketAsync();

        // Assert: 8 s counted from the call's arrival, which lies between the bracket's ends (a loaded machine can
        // take over a second to get a first call there, so a fixed 7-9 s window was flaky).
        Assert.InRange(validWindow.Deadline, validWindow.Before.AddSeconds(8).AddMilliseconds(-50), validWindow.After.AddSeconds(8).AddMilliseconds(50));
        Assert.InRange(invalidWindow.Deadline, invalidWindow.Before.AddSeconds(8).AddMilliseconds(-50), invalidWindow.After.AddSeconds(8).AddMilliseconds(50));
        // (one configuration reload may notify more than once; each notification of the bad value is refused)
        Assert.NotEmpty(failures.GetMeasurementSnapshot());
        Assert.All(failures.GetMeasurementSnapshot(), f => Assert.Equal(DeadlinePolicyOptions.SectionName, f.Tags[BulkheadConstants.BulkheadTag]));

        async Task<(DateTime Before, DateTime Deadline, DateTime After)> CallAndBracketAsync()
        {
            var before = DateTime.UtcNow;
            await client.RenderAsync(new RenderRequest { Width = 2 }).ResponseAsync.DefaultTimeout();
            return (before, probe.LastDeadline, DateTime.UtcNow);
        }
    }

    [Fact]
    public async Task Render_DeadlinePassesWhileQueued_ServerAnswersDeadlineExceededWithReasonAndHandlerNeverStarts()
    {
        // Arrange: the server's bulkhead and deadlines run on a fake clock (grpc-dotnet's own deadline keeps real
        // time, 5 s away), so only the bulkhead can end the queued call when the test moves the clock 5 s.
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await InterceptorHost.StartAsync(new(s_settings)
        {
            ["Deadlines:AllMethods:Default"] = "00:00:20",
            ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/Render:Default"] = "00:00:20",
            ["Bulkheads:render:MaxQueueTime"] = "00:00:10",
        }, time);
        var (probe, bulkhead) = (host.Probe, host.Bulkhead);
        using var requests = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        var held = await host.HoldPermitAsync();
        using var http = new HttpClient();
        var queued = RawGrpcCall.SendAsync(http, host.Address, "/meshbulkheads.render.v1.RenderService/Render", new RenderRequest { Width = 2 }, new Dictionary<string, string> { ["grpc-timeout"] = "5S" });
        await WaitUntilAsync(() => bulkhead.QueuedCount == 1);

        // Act
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await queued.DefaultTimeout();
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();

        // Assert: the server's own answer, with the bulkhead's reason and result.
        Assert.Equal("4", result.GrpcStatus);
        Assert.Equal("deadline-exceeded", result.RejectReason);
        Assert.Contains("deadline passed before a permit was granted", result.Message, StringComparison.Ordinal);
        Assert.Contains(requests.GetMeasurementSnapshot(), m => (string?)m.Tags[BulkheadConstants.ResultTag] == BulkheadConstants.Results.Deadline);
        Assert.Equal(1, probe.Started);
        Assert.Equal(0, probe.StartedAfterDeadline);
    }

    /// <summary>The interceptor host on a clock that stands still, so a queued waiter is never shed at MaxQueueTime.</summary>
    private static Task<InterceptorHost> StartWithHeldPermitAsync() =>
        InterceptorHost.StartAsync(s_settings, new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
}
