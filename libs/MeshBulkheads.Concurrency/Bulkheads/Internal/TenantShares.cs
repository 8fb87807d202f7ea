namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// How many permits and queue slots each tenant holds in one bulkhead, and the most one tenant may hold
/// (<see cref="BulkheadOptions.TenantMaxShare"/> of permits plus queue). Not thread-safe: the bulkhead calls it
/// under its lock.
/// </summary>
/// <remarks>
/// Always counted, even while the share is 1: a share switched on by a reload must see the permits tenants
/// already hold, or a tenant could hold its old permits plus a whole new share.
/// </remarks>
internal sealed class TenantShares
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private int _bound = int.MaxValue;

    /// <summary>Gets how many tenants hold at least one permit or queue slot (entries are removed at zero).</summary>
    public int Count => _counts.Count;

    /// <summary>Whether <paramref name="tenant"/> already holds its whole share.</summary>
    public bool IsAtShare(string tenant) => _counts.GetValueOrDefault(tenant) >= _bound;

    /// <summary>Counts one more permit or queue slot for <paramref name="tenant"/>.</summary>
    public void Add(string tenant) => _counts[tenant] = _counts.GetValueOrDefault(tenant) + 1;

    /// <summary>Counts one permit or queue slot fewer for <paramref name="tenant"/>.</summary>
    public void Remove(string tenant)
    {
        if (_counts.TryGetValue(tenant, out var count))
        {
            if (count <= 1)
            {
                _counts.Remove(tenant);
            }
            else
            {
                _counts[tenant] = count - 1;
            }
        }
    }

    /// <summary>Sets the bound from the options in force.</summary>
    /// <remarks>
    /// The bound follows every resize (a share of the capacity now); permits held above a smaller new bound are
    /// never revoked, they only keep the tenant out until it is back under it.
    /// </remarks>
    public void Resize(BulkheadOptions options) =>
        _bound = options.TenantMaxShare < 1.0
            ? Math.Max(1, (int)Math.Ceiling(options.TenantMaxShare * (options.PermitLimit + options.QueueLimit)))
            : int.MaxValue;
}
