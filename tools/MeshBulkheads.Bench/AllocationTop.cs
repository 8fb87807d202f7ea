using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MeshBulkheads.Bench;

/// <summary>
/// <c>alloc-top &lt;trace.nettrace&gt; [n]</c>: the top allocating types of a <c>dotnet-trace collect --profile
/// gc-verbose</c> trace, from the runtime's sampled allocation events (<c>GCAllocationTick</c>, about one per
/// 100 KB allocated per heap), with the code that allocates them most (the nearest frame outside the runtime's
/// collections, tasks and arrays), as JSON: <c>{samples, sampledBytes, top: [{type, bytes, share, allocatedBy}]}</c>.
/// </summary>
internal static class AllocationTop
{
    private static readonly string[] Plumbing =
    [
        "System.GC", "System.Array", "System.String", "System.Buffer", "System.Collections.", "System.Runtime.CompilerServices",
        "System.Threading.Tasks", "System.Span", "System.Text.ValueStringBuilder", "System.Number", "System.SZArrayHelper",
        "System.Buffers.", "System.Linq.",
    ];

    public static int Run(string[] args) => TraceCommand.Run(args, "alloc-top", Report);

    /// <summary>The report of the trace at <paramref name="path"/> with the top <paramref name="n"/> types.</summary>
    public static AllocationReport Report(string path, int n)
    {
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        var sites = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var samples = 0;
        var etlx = TraceLog.CreateFromEventPipeDataFile(path);
        using (var log = new TraceLog(etlx))
        {
            foreach (var e in log.Events)
            {
                if (e is not GCAllocationTickTraceData tick)
                {
                    continue;
                }

                samples++;
                var type = string.IsNullOrEmpty(tick.TypeName) ? "?" : tick.TypeName;
                bytes[type] = bytes.GetValueOrDefault(type) + tick.AllocationAmount64;
                var site = "?";
                for (var frame = tick.CallStack(); frame is not null; frame = frame.Caller)
                {
                    var name = frame.CodeAddress.FullMethodName;
                    if (!string.IsNullOrEmpty(name) && !Plumbing.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                    {
                        site = name.IndexOf('(', StringComparison.Ordinal) is var paren and > 0 ? name[..paren] : name;
                        break;
                    }
                }

                var byType = sites.TryGetValue(type, out var known) ? known : sites[type] = new Dictionary<string, long>(StringComparer.Ordinal);
                byType[site] = byType.GetValueOrDefault(site) + tick.AllocationAmount64;
            }
        }

        File.Delete(etlx);
        var total = bytes.Values.Sum();
        var top = bytes.OrderByDescending(kv => kv.Value).Take(n).Select(kv => new AllocatedType(
            kv.Key,
            kv.Value,
            total == 0 ? 0 : (double)kv.Value / total,
            [.. sites[kv.Key].OrderByDescending(s => s.Value).Take(2).Select(s => s.Key)])).ToList();
        return new AllocationReport(samples, total, top);
    }
}

/// <summary>What <see cref="AllocationTop"/> reports (serialized with camelCase names: bench.sh reads them with jq).</summary>
internal sealed record AllocationReport(
    int Samples,
    long SampledBytes,
    IReadOnlyList<AllocatedType> Top);

/// <summary>One type of <see cref="AllocationReport.Top"/>.</summary>
internal sealed record AllocatedType(
    string Type,
    long Bytes,
    double Share,
    IReadOnlyList<string> AllocatedBy);
