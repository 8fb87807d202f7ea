namespace MeshBulkheads.ServiceDefaults.Health;

/// <summary>
/// Work that must finish before the process reports ready (schema creation, seeding, connection
/// checks). Registered services run in order after the host has started.
/// </summary>
public interface IWarmup
{
    Task WarmUpAsync(CancellationToken cancellationToken);
}
