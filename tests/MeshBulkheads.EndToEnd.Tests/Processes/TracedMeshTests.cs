using MeshBulkheads.Testing.Otlp;

namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>
/// Base of the trace tests: a child-process mesh per test, exporting over OTLP/gRPC (200 ms batch delay) to an
/// in-test receiver. Child processes, not in-process hosts: in one process every host's exporter would see every
/// host's spans and export them under its own <c>service.name</c>.
/// </summary>
public abstract class TracedMeshTests : IAsyncLifetime
{
    private OtlpTraceReceiver? _receiver;
    private MeshProcesses? _mesh;

    protected OtlpTraceReceiver Receiver => _receiver ?? throw new InvalidOperationException("The receiver has not started.");

    protected MeshProcesses Mesh => _mesh ?? throw new InvalidOperationException("The mesh has not started.");

    public async ValueTask InitializeAsync()
    {
        _receiver = await OtlpTraceReceiver.StartAsync(TestContext.Current.CancellationToken);
        var otlp = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.Endpoint.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        _mesh = await MeshProcesses.StartAsync(_ => otlp, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_mesh is not null)
        {
            _mesh.ReportOutputIfTestFailed();
            await _mesh.DisposeAsync();
        }

        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
