namespace MeshBulkheads.LoadGen.Streams;

/// <summary>
/// One stream of calls: a tenant (API key) calling one method at a rate (open loop) or with a fixed
/// number of calls in flight (closed loop, <see cref="Concurrency"/> &gt; 0).
/// </summary>
internal sealed record StreamSpec
{
    public required string Name { get; init; }

    public required string ApiKey { get; init; }

    public required MeshMethod Method { get; init; }

    /// <summary>Target arrival rate in calls per second (open loop).</summary>
    public double Rate { get; init; }

    /// <summary>Calls kept in flight (closed loop); 0 means open loop at <see cref="Rate"/>.</summary>
    public int Concurrency { get; init; }

    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Accounts per BuildReport request.</summary>
    public int Accounts { get; init; } = 10;

    /// <summary>Render width and height in pixels.</summary>
    public int RenderSize { get; init; } = 64;

    /// <summary>Render iterations per pixel.</summary>
    public int RenderIterations { get; init; } = 50;

    /// <summary><c>critical</c>, <c>sheddable</c>, or null (no <c>x-mesh-criticality</c> header).</summary>
    public string? Criticality { get; init; }

    /// <summary>
    /// <c>x-tenant-id</c> sent as is (or null: none), for calling a service directly, without the gateway that
    /// would otherwise set it from the API key (<c>make bench</c>'s direct path).
    /// </summary>
    public string? TenantId { get; init; }

    /// <summary>Time the stream starts after the run starts (scenarios stagger streams).</summary>
    public TimeSpan StartAfter { get; init; }

    public bool IsClosedLoop => Concurrency > 0;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Contains(':', StringComparison.Ordinal))
        {
            throw new BadInputException($"stream name '{Name}' must be non-empty and contain no ':'");
        }

        if (IsClosedLoop ? Concurrency > 10_000 : !(Rate > 0 && Rate <= 100_000))
        {
            throw new BadInputException(IsClosedLoop
                ? $"stream '{Name}': concurrency must be 1..10000 (got {Concurrency})"
                : $"stream '{Name}': rate must be > 0 and <= 100000 calls/s (got {Rate})");
        }

        if (Deadline <= TimeSpan.Zero || Deadline > TimeSpan.FromMinutes(10))
        {
            throw new BadInputException($"stream '{Name}': deadline must be > 0 and <= 10m (got {Deadline})");
        }

        if (Accounts is < 1 or > 100)
        {
            throw new BadInputException($"stream '{Name}': accounts must be 1..100 (got {Accounts})");
        }

        if (RenderSize is < 1 or > 4096 || RenderIterations is < 1 or > 100_000)
        {
            throw new BadInputException($"stream '{Name}': render size must be 1..4096 and iterations 1..100000");
        }

        // The service checks the id itself (INVALID_ARGUMENT for a malformed one): the run shows it as an outcome.
        if (TenantId is { Length: 0 })
        {
            throw new BadInputException($"stream '{Name}': tenant must not be empty");
        }

        if (Criticality is not null and not "critical" and not "sheddable")
        {
            throw new BadInputException($"stream '{Name}': criticality must be critical or sheddable (got '{Criticality}')");
        }
    }
}
