namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>The bulkhead names registered through the builder (one instance per service collection).</summary>
internal sealed class BulkheadRegistry
{
    private readonly List<string> _names = [];
    private volatile bool _startupValidated;

    public IReadOnlyList<string> Names => _names;

    /// <summary>Set once the provider has taken its first, validated snapshot.</summary>
    public bool StartupValidated
    {
        get => _startupValidated;
        set => _startupValidated = value;
    }

    public bool Contains(string name) => _names.Contains(name, StringComparer.OrdinalIgnoreCase);

    public void Add(string name)
    {
        if (Contains(name))
        {
            throw new InvalidOperationException($"A bulkhead named '{name}' is already registered; bulkhead names must be unique (case-insensitive).");
        }

        _names.Add(name);
    }
}
