using System.Security.Cryptography;
using MeshBulkheads.ServiceDefaults.Telemetry;
using MeshBulkheads.Testing.Otlp;
using SpanKind = MeshBulkheads.Testing.Otlp.Proto.Trace.Span.Types.SpanKind;

namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>
/// One <c>BuildReport</c> through the gateway is one trace across three real processes, exported
/// over OTLP/gRPC. Child processes, not in-process hosts: in one process every host's exporter would
/// see every host's spans and export them under its own <c>service.name</c>.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class TraceTests : TracedMeshTests
{
    private const string Tenant = "acme";
    private static readonly string[] Accounts = ["acct-0001", "acct-0002"];

    // Spans reach the receiver within a batch delay (200 ms) of ending; this bounds a slow machine.
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task BuildReport_ThroughGateway_IsOneTraceAcrossThreeProcesses()
    {
        // Arrange: the caller starts the trace (W3C traceparent, sampled), so the trace id is known.
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var callerSpanId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var headers = new Metadata
        {
            { "x-api-key", DemoTenants.AcmeKey },
            { "traceparent", $"00-{traceId}-{callerSpanId}-01" },
        };
        var reporting = new ReportingService.ReportingServiceClient(Mesh.Gateway.CreateChannel());
        var ct = TestContext.Current.CancellationToken;

        // Act
        var report = await reporting.BuildReportAsync(
            new BuildReportRequest { AccountIds = { Accounts } },
            headers,
            deadline: DateTime.UtcNow.AddSeconds(30),
            cancellationToken: ct);
        var spans = await Receiver.WaitForAsync(s => IsComplete(Trace(s, traceId)), ExportTimeout, ct);
        var trace = Trace(spans, traceId);
        WriteTree(trace, callerSpanId);

        // Assert: one trace, three services.
        Assert.Equal(Accounts, report.Accounts.Select(a => a.AccountId));
        Assert.Equal(["gateway", "payments", "reporting"], trace.Select(s => s.ServiceName).Distinct().Order());

        // The gateway's server span is the trace's entry, a child of the caller's span.
        var gateway = Assert.Single(trace, s => s.ServiceName == "gateway" && s.Kind == SpanKind.Server);
        Assert.Equal(callerSpanId, gateway.ParentSpanId);
        Assert.Equal("reporting", gateway.Attribute(MeshActivity.RouteTag));

        // Reporting's one server span descends from the gateway's server span through the
        // gateway's outgoing (YARP HttpClient) client span: a child, not a duplicate or a new root.
        var reportingServer = Assert.Single(trace, s => s.ServiceName == "reporting" && s.Kind == SpanKind.Server);
        var proxyCall = Parent(trace, reportingServer);
        Assert.Equal(("gateway", SpanKind.Client), (proxyCall.ServiceName, proxyCall.Kind));
        Assert.Same(gateway, Ancestor(trace, proxyCall, s => s.Kind == SpanKind.Server));
        Assert.Equal("ReportingService", reportingServer.Attribute(MeshActivity.RouteTag));

        // One payments server span per account, each the child of reporting's gRPC client span
        // (no HTTP span in between: downstream instrumentation is suppressed) under its server span.
        var paymentsServers = trace.Where(s => s.ServiceName == "payments" && s.Kind == SpanKind.Server).ToList();
        Assert.Equal(Accounts.Length, paymentsServers.Count);
        foreach (var server in paymentsServers)
        {
            var client = Parent(trace, server);
            Assert.Equal(("reporting", SpanKind.Client), (client.ServiceName, client.Kind));
            Assert.EndsWith("PaymentsService/GetBalance", client.Name, StringComparison.Ordinal);
            Assert.Same(reportingServer, Ancestor(trace, client, s => s.Kind == SpanKind.Server));
            Assert.Equal("PaymentsService", server.Attribute(MeshActivity.RouteTag));
        }

        // The tenant the gateway authenticated is on every server span; so are criticality and the budget.
        Assert.All([gateway, reportingServer, .. paymentsServers], s =>
        {
            Assert.Equal(Tenant, s.Attribute(MeshActivity.TenantTag));
            Assert.Equal("sheddable", s.Attribute(MeshActivity.CriticalityTag));
            Assert.InRange(long.Parse(s.Attribute(MeshActivity.DeadlineBudgetTag)!, System.Globalization.CultureInfo.InvariantCulture), 1, 30_000);
            Assert.Equal("0", s.Attribute(MeshActivity.GrpcStatusCodeTag));
        });

        // Waiting for a pooled connection is its own span, beside (not around) the query.
        foreach (var server in paymentsServers)
        {
            var below = trace.Where(s => s.ServiceName == "payments" && Ancestor(trace, s, a => a.Kind == SpanKind.Server) == server).ToList();
            var poolWait = Assert.Single(below, s => s.Name == "db.pool.wait");
            var query = Assert.Single(below, s => s.Name == "db.query");
            Assert.NotEqual(poolWait.SpanId, query.ParentSpanId);
            Assert.Equal("read", poolWait.Attribute("meshbulkheads.pool"));
        }
    }

    private static List<ReceivedSpan> Trace(IReadOnlyList<ReceivedSpan> spans, string traceId) =>
        [.. spans.Where(s => s.TraceId == traceId)];

    /// <summary>Every process has exported: both payments calls with their database spans, and the chain above them.</summary>
    private static bool IsComplete(List<ReceivedSpan> trace) =>
        trace.Count(s => s.ServiceName == "payments" && s.Kind == SpanKind.Server) >= Accounts.Length
        && trace.Count(s => s.Name == "db.query") >= Accounts.Length
        && trace.Any(s => s.ServiceName == "gateway" && s.Kind == SpanKind.Server)
        && trace.Any(s => s.ServiceName == "reporting" && s.Kind == SpanKind.Server)
        && trace.Where(s => !(s.ServiceName == "gateway" && s.Kind == SpanKind.Server))
            .All(s => trace.Any(p => p.SpanId == s.ParentSpanId));

    private static ReceivedSpan Parent(List<ReceivedSpan> trace, ReceivedSpan span) =>
        trace.SingleOrDefault(s => s.SpanId == span.ParentSpanId)
        ?? throw new Xunit.Sdk.XunitException($"No parent received for {span}");

    /// <summary>The nearest ancestor (or the span itself) matching <paramref name="match"/>, or null.</summary>
    private static ReceivedSpan? Ancestor(List<ReceivedSpan> trace, ReceivedSpan span, Func<ReceivedSpan, bool> match)
    {
        for (ReceivedSpan? current = span; current is not null; current = trace.SingleOrDefault(s => s.SpanId == current.ParentSpanId))
        {
            if (match(current))
            {
                return current;
            }
        }

        return null;
    }

    /// <summary>The trace as an indented tree in the test output (what Jaeger would draw).</summary>
    private static void WriteTree(List<ReceivedSpan> trace, string rootParent)
    {
        var output = TestContext.Current.TestOutputHelper;
        void Write(string? parent, int depth)
        {
            foreach (var span in trace.Where(s => s.ParentSpanId == parent))
            {
                output?.WriteLine(new string(' ', depth * 2) + span);
                Write(span.SpanId, depth + 1);
            }
        }

        Write(rootParent, 0);
    }
}
