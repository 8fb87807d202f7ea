namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>The named bulkheads registered with <c>services.AddBulkheads().AddBulkhead(name, …)</c>.</summary>
public interface IBulkheadProvider
{
    /// <summary>Gets the registered names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>Gets a bulkhead by name (case-insensitive).</summary>
    /// <param name="name">The name given to <c>AddBulkhead</c>.</param>
    /// <returns>The bulkhead (one instance per name for the lifetime of the container).</returns>
    /// <exception cref="KeyNotFoundException">No bulkhead has that name; the message lists the known names.</exception>
    Bulkhead Get(string name);

    /// <summary>Gets a bulkhead by name, or null.</summary>
    /// <param name="name">The name.</param>
    /// <param name="bulkhead">The bulkhead when found.</param>
    /// <returns>Whether it was found.</returns>
    bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Bulkhead? bulkhead);
}
