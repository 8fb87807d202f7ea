using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>The bulkhead names and code deadline defaults registered through the builder (one instance per service collection).</summary>
internal sealed class BulkheadRegistry
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, DeadlineOptions> _deadlineDefaults = new(StringComparer.Ordinal);
    private volatile bool _startupValidated;
    private volatile bool _deadlinesStartupValidated;

    public IReadOnlyList<string> Names => _names;

    /// <summary>Set once the provider has taken its first, validated snapshot.</summary>
    public bool StartupValidated
    {
        get => _startupValidated;
        set => _startupValidated = value;
    }

    /// <summary>Set once the deadline policy monitor has taken its first, validated snapshot.</summary>
    public bool DeadlinesStartupValidated
    {
        get => _deadlinesStartupValidated;
        set => _deadlinesStartupValidated = value;
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

    public void AddDeadlineDefault(string methodPrefix, DeadlineOptions deadline)
    {
        if (!_deadlineDefaults.TryAdd(methodPrefix, deadline))
        {
            throw new InvalidOperationException($"A deadline default for '{methodPrefix}' is already registered.");
        }
    }

    /// <summary>
    /// Copies the code defaults into <paramref name="options"/>. Runs before configuration is bound, so
    /// <c>Deadlines:Methods:&lt;prefix&gt;:Default</c> or <c>:Max</c> overrides each value on its own.
    /// </summary>
    public void ApplyDeadlineDefaults(DeadlinePolicyOptions options)
    {
        foreach (var (prefix, deadline) in _deadlineDefaults)
        {
            options.Methods[prefix] = new DeadlineOptions { Default = deadline.Default, Max = deadline.Max };
        }
    }
}
