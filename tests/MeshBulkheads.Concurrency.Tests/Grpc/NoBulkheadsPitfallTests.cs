using MeshBulkheads.Contracts.Render.V1;
using Microsoft.Extensions.Logging;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>
/// <c>Mesh:Pitfalls:NoBulkheads</c> through a real host: a bulkhead configured with one permit and no queue admits
/// every concurrent call with the switch on, and turns all but one away without it (the default).
/// </summary>
public sealed class NoBulkheadsPitfallTests
{
    private const int Calls = 8;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Render_PermitLimit1QueueLimit0_SwitchOnAdmitsEveryConcurrentCallOffRejectsAllButOne(bool noBulkheads)
    {
        // Arrange: every call is held in its handler until the gate opens.
        var settings = new Dictionary<string, string?>
        {
            ["Deadlines:AllMethods:Default"] = "00:00:05",
            ["Deadlines:AllMethods:Max"] = "00:00:30",
            ["Bulkheads:render:PermitLimit"] = "1",
            ["Bulkheads:render:QueueLimit"] = "0",
        };
        if (noBulkheads)
        {
            settings[MeshPitfallOptions.NoBulkheadsKey] = "true";
        }

        await using var host = await InterceptorHost.StartAsync(settings, configure: b => b.Services.AddFakeLogging());
        var probe = host.Probe;
        Task Call() => host.Client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;
        var first = CallStatus.OfAsync(Call());
        await probe.FirstStarted.Task.DefaultTimeout();

        // Act
        var rest = Enumerable.Range(1, Calls - 1).Select(_ => CallStatus.OfAsync(Call())).ToList();
        if (noBulkheads)
        {
            await WaitUntilAsync(() => probe.Started == Calls);
        }
        else
        {
            await Task.WhenAll(rest).DefaultTimeout();
        }

        var startedWhileHeld = probe.Started;
        probe.Gate.SetResult();
        var statuses = await Task.WhenAll([first, .. rest]).DefaultTimeout();

        // Assert
        var bulkhead = host.Bulkhead;
        var warnings = host.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Level == LogLevel.Warning && r.Message.Contains(MeshPitfallOptions.NoBulkheadsKey, StringComparison.Ordinal));
        if (noBulkheads)
        {
            Assert.Equal(Calls, startedWhileHeld);
            Assert.All(statuses, s => Assert.Equal(StatusCode.OK, s));
            Assert.Equal(MeshPitfallOptions.UnboundedLimit, bulkhead.PermitLimit);
            Assert.Single(warnings);
        }
        else
        {
            Assert.Equal(1, startedWhileHeld);
            Assert.Equal(1, statuses.Count(s => s == StatusCode.OK));
            Assert.Equal(Calls - 1, statuses.Count(s => s == StatusCode.Unavailable));
            Assert.Equal(1, bulkhead.PermitLimit);
            Assert.Empty(warnings);
        }
    }
}
