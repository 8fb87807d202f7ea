using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeshBulkheads.ServiceDefaults.Health;

internal sealed class ReadinessHealthCheck(ReadinessState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsReady ? HealthCheckResult.Healthy(state.Reason) : HealthCheckResult.Unhealthy(state.Reason));
}
