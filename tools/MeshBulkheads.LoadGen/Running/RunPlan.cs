using MeshBulkheads.LoadGen.Streams;
using MeshBulkheads.LoadGen.Thresholds;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>Whether a rejected call's retry waits the server's <c>grpc-retry-pushback-ms</c>.</summary>
internal enum PushbackMode
{
    /// <summary>Wait the pushback before retrying; a negative pushback means do not retry (gRFC A6).</summary>
    Honour,

    /// <summary>Retry at once, whatever the server said: the retry storm.</summary>
    Ignore,
}

/// <summary>Everything one load run needs, from the command line or a scenario.</summary>
internal sealed record RunPlan
{
    public required Uri Target { get; init; }

    /// <summary>The CA file an <c>https://</c> target's certificate must chain to (<c>--ca-file</c>); null: the machine's store.</summary>
    public string? CaFile { get; init; }

    public required IReadOnlyList<StreamSpec> Streams { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>HTTP/2 connections (one channel each, round-robin), each allowed to open more when its stream limit is reached.</summary>
    public int Connections { get; init; } = 4;

    public PushbackMode Pushback { get; init; } = PushbackMode.Honour;

    /// <summary>Attempts per call on UNAVAILABLE/RESOURCE_EXHAUSTED (1 = no retries).</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>p99 scheduling lag above which the run is invalid (exit 2).</summary>
    public TimeSpan MaxLag { get; init; } = TimeSpan.FromMilliseconds(100);

    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    /// <summary>Admin base addresses whose <c>/metrics</c> are scraped during the run (for the report).</summary>
    public IReadOnlyList<Uri> AdminTargets { get; init; } = [];

    public string? Label { get; init; }

    public void Validate()
    {
        if (Streams.Count == 0)
        {
            throw new BadInputException("no streams: give --stream name=…,key=…,method=…,rate=… or a scenario");
        }

        var duplicate = Streams.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new BadInputException($"two streams are named '{duplicate.Key}'");
        }

        foreach (var stream in Streams)
        {
            stream.Validate();
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(1))
        {
            throw new BadInputException($"duration must be > 0 and <= 1h (got {Duration})");
        }

        _ = GatewayTls.LoadRoots(Target, CaFile);
        if (Connections is < 1 or > 256)
        {
            throw new BadInputException($"connections must be 1..256 (got {Connections})");
        }

        if (MaxAttempts is < 1 or > 10)
        {
            throw new BadInputException($"attempts must be 1..10 (got {MaxAttempts})");
        }

        foreach (var threshold in Thresholds)
        {
            if (threshold.Stream != "*" && Streams.All(s => s.Name != threshold.Stream))
            {
                throw new BadInputException($"threshold '{threshold.Text}' names stream '{threshold.Stream}', which is not in this run ({string.Join(", ", Streams.Select(s => s.Name))})");
            }
        }
    }
}
