namespace MeshBulkheads.Gateway.Policy;

/// <summary>
/// A value made from the policy in force and made again on every accepted reload (<see cref="GatewayPolicyMonitor.Changed"/>):
/// the rate limiters' buckets. Reading <see cref="Current"/> takes no lock; a call that read the replaced value finishes on
/// it. Dispose it to stop following the monitor.
/// </summary>
/// <typeparam name="T">What is made from the policy; it owns no timer or handle (the replaced one is dropped, not disposed).</typeparam>
internal sealed class PolicyBound<T> : IDisposable
    where T : class
{
    private readonly GatewayPolicyMonitor _monitor;
    private readonly Func<GatewayPolicy, T> _create;
    private volatile T _current;

    public PolicyBound(GatewayPolicyMonitor monitor, Func<GatewayPolicy, T> create)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(create);
        _monitor = monitor;
        _create = create;
        _current = create(monitor.Current);
        monitor.Changed += OnPolicyChanged;
    }

    /// <summary>The value made from the current policy.</summary>
    public T Current => _current;

    public void Dispose() => _monitor.Changed -= OnPolicyChanged;

    private void OnPolicyChanged(GatewayPolicy policy) => _current = _create(policy);
}
