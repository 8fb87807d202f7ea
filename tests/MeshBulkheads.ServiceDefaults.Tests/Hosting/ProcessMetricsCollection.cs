namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

/// <summary>
/// Tests that read a host's own series from its /metrics run alone. Every in-process host creates
/// meters with the same names; an OpenTelemetry MeterProvider subscribes by name, so while another
/// host of this test process is alive, this host's provider can bind to that host's instrument first
/// and ignore its own as a duplicate (seen on CI: the thread-pool lag series never appeared in 20 s
/// while other test classes ran hosts in parallel). Span tests run alone for the same reason: OpenTelemetry's
/// ASP.NET Core instrumentation is process-wide, so another host's tracer provider (its sampler and filters)
/// takes part in every request's span (seen in a full run: a GetBalance span never reached the sink in 30 s).
/// Per-process claims are also made with child processes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMetricsCollection
{
    public const string Name = "Process metrics (runs alone)";
}
