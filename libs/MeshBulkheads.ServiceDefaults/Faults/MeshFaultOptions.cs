namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>Section <c>Mesh:Faults</c>: whether this process accepts injected faults, and their bounds.</summary>
public sealed class MeshFaultOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Mesh:Faults";

    /// <summary>
    /// Whether <c>PUT /faults</c> may switch faults on. Null (the default): on everywhere but Production, where it
    /// must be set to true explicitly.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// A faults document to read instead of taking <c>PUT /faults</c> (the chart's faults ConfigMap: one writer for
    /// every pod): <c>{"generation": N, "faults": [...]}</c>, watched and reloaded on change (a ConfigMap update reaches
    /// the mounted file in ≈ 60–90 s); writes then answer 409. Null: the API is the writer (<c>make run</c>).
    /// </summary>
    public string? File { get; set; }

    /// <summary>How long a fault lives when its request names no expiry: a killed script cannot leave a process slow.</summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan DefaultExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest expiry a request may ask for.</summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan MaxExpiry { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The most latency one fault may add to one call.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan MaxLatency { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most CPU one fault may burn per call.</summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan MaxCpu { get; set; } = TimeSpan.FromSeconds(2);
}
