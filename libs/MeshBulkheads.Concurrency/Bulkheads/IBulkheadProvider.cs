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

    /// <summary>
    /// Gets a bulkhead by name, creating it on first use from the named <see cref="BulkheadOptions"/> as they are
    /// now: for bulkheads whose names come from the final configuration rather than from code (the gateway's
    /// one bulkhead per YARP route, including routes added by a reload).
    /// </summary>
    /// <param name="name">The name; also the metric label.</param>
    /// <returns>The bulkhead (one instance per name for the lifetime of the container).</returns>
    /// <remarks>
    /// The options are validated as at start-up. A bulkhead created here has no configuration change token of its
    /// own: its owner applies reloads with <see cref="Bulkhead.UpdateOptions"/>.
    /// </remarks>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; nothing is created.</exception>
    Bulkhead GetOrAdd(string name);
}
