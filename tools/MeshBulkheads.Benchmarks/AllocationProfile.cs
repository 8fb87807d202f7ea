using System.Diagnostics.Tracing;
using System.Globalization;

namespace MeshBulkheads.Benchmarks;

/// <summary>
/// <c>MeshBulkheads.Benchmarks alloc [pipeline] [calls]</c>: the allocation profile of one rung of
/// <see cref="GatewayPipelineBenchmarks"/> (default: every feature on) — the runtime's sampled allocation events
/// (<c>GCAllocationTick</c>, about one per 100 KB allocated) over <c>calls</c> calls (default 200,000), by type,
/// as a table of the top types with their share and estimated bytes per call. Printed, and written as JSON
/// when a third argument names a file.
/// </summary>
internal static class AllocationProfile
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pipeline = args.Length > 0 ? args[0] : "+" + Gateway.GatewayApp.PipelineFeatures[^1];
        var calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
        var benchmarks = new GatewayPipelineBenchmarks { Pipeline = pipeline };
        benchmarks.Setup();
        try
        {
            for (var i = 0; i < 20_000; i++)
            {
                await benchmarks.GetBalance();
            }

            using var listener = new AllocationListener();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < calls; i++)
            {
                await benchmarks.GetBalance();
            }

            var total = GC.GetTotalAllocatedBytes(precise: true) - before;
            var sampled = listener.Snapshot();
            var sampledTotal = sampled.Sum(s => s.Value);
            var rows = sampled.OrderByDescending(s => s.Value).Take(25)
                .Select(s => new { type = s.Key, share = (double)s.Value / sampledTotal, bytesPerCall = (double)s.Value / sampledTotal * total / calls })
                .ToList();
            Console.WriteLine($"{pipeline}: {calls} calls, {(double)total / calls:0} B allocated per call (GC.GetTotalAllocatedBytes), {sampled.Count} types sampled");
            Console.WriteLine($"{"share",7} {"B/call",8}  type");
            foreach (var row in rows)
            {
                Console.WriteLine($"{row.share,7:P1} {row.bytesPerCall,8:0}  {row.type}");
            }

            if (args.Length > 2)
            {
                await File.WriteAllTextAsync(args[2], System.Text.Json.JsonSerializer.Serialize(new { pipeline, calls, bytesPerCall = (double)total / calls, top = rows }));
            }

            return 0;
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }

    /// <summary>Sums the runtime's <c>GCAllocationTick</c> events (GC keyword, verbose) by type name.</summary>
    private sealed class AllocationListener : EventListener
    {
        private readonly Dictionary<string, long> _bytes = [];
        private readonly Lock _lock = new();

        public Dictionary<string, long> Snapshot()
        {
            lock (_lock)
            {
                return new Dictionary<string, long>(_bytes);
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
            {
                return;
            }

            var type = eventData.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload?[t] as string ?? "?" : "?";
            var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload?[a], CultureInfo.InvariantCulture) : 100_000;
            lock (_lock)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}
