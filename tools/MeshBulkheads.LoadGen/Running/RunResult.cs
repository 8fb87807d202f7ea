namespace MeshBulkheads.LoadGen.Running;

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static LatencySummary From(LatencyHistogram histogram) => new(
        histogram.Count,
        histogram.Percentile(50).TotalMilliseconds,
        histogram.Percentile(90).TotalMilliseconds,
        histogram.Percentile(99).TotalMilliseconds,
        histogram.Percentile(99.9).TotalMilliseconds,
        histogram.Max.TotalMilliseconds,
        histogram.Mean.TotalMilliseconds);
}

/// <summary>One stream's totals at the end of a run (the table, <c>--json</c> and the thresholds read it).</summary>
internal sealed record StreamResult
{
    public required string Name { get; init; }

    public required string Method { get; init; }

    /// <summary><c>open-loop</c> or <c>closed-loop concurrency=N</c>; closed loop hides queueing (coordinated omission).</summary>
    public required string Mode { get; init; }

    public double? TargetRate { get; init; }

    public long Offered { get; init; }

    public long Completed { get; init; }

    public long Ok { get; init; }

    public long Rejected { get; init; }

    public long DeadlineExceeded { get; init; }

    public long Errors { get; init; }

    public long Attempts { get; init; }

    public long PushbackWaits { get; init; }

    /// <summary>Rejections that carried <c>grpc-retry-pushback-ms</c>.</summary>
    public long RejectedWithPushback { get; init; }

    /// <summary>Count by <c>STATUS</c> or <c>STATUS/x-mesh-reject-reason</c>.</summary>
    public required SortedDictionary<string, long> Outcomes { get; init; }

    public double OfferedRate { get; init; }

    public double Goodput { get; init; }

    /// <summary>Latency of OK calls, from the intended send time.</summary>
    public required LatencySummary LatencyMs { get; init; }

    /// <summary>Latency of rejected calls (how fast the mesh sheds).</summary>
    public required LatencySummary RejectedLatencyMs { get; init; }

    /// <summary>How late the generator issued calls against their schedule.</summary>
    public required LatencySummary SchedulingLagMs { get; init; }
}

/// <summary>A whole run: what <c>--json</c> prints.</summary>
internal sealed record RunResult
{
    public required string Target { get; init; }

    public required string Mode { get; init; }

    public required double DurationSeconds { get; init; }

    public required int Connections { get; init; }

    public required string Pushback { get; init; }

    public int MaxAttempts { get; init; }

    /// <summary>Calls that waited in SocketsHttpHandler's queue for a connection or stream slot (System.Net.Http metric).</summary>
    public long CallsWaitedForConnection { get; init; }

    public required IReadOnlyList<StreamResult> Streams { get; init; }

    public double MaxSchedulingLagMs { get; init; }

    public double SchedulingLagP99Ms { get; init; }

    public bool Valid { get; init; } = true;

    public string? InvalidReason { get; init; }

    public IReadOnlyList<ThresholdOutcome> Thresholds { get; init; } = [];

    public long ScrapesDropped { get; init; }

    /// <summary>Per bulkhead, the peaks scraped from the processes' <c>/metrics</c> during the run (empty without scrapes).</summary>
    public IReadOnlyList<BulkheadPeak> Bulkheads { get; init; } = [];

    public int ExitCode { get; init; }
}

/// <summary>One bulkhead's peaks over a run's scrapes: its last permit limit and the most it held, queued and kept waiting.</summary>
internal sealed record BulkheadPeak(string Name, double PermitLimit, double MaxActive, double MaxQueued, double MaxOldestQueueAgeSeconds);

/// <summary>A threshold's verdict, with the value it was compared against.</summary>
internal sealed record ThresholdOutcome(string Threshold, bool Passed, string Actual);
