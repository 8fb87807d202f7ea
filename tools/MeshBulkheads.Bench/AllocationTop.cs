using System.Text.Json;
using Microsoft.Diagnostics.Tracing;

namespace MeshBulkheads.Bench;

/// <summary>
/// <c>alloc-top &lt;trace.nettrace&gt; [n]</c>: the top allocating types of a <c>dotnet-trace collect --profile
/// gc-verbose</c> trace, from the runtime's sampled allocation events (<c>GCAllocationTick</c>, about one per
/// 100 KB allocated per heap), as JSON: <c>{samples, sampledBytes, top: [{type, bytes, share}]}</c>.
/// </summary>
internal static class AllocationTop
{
    public static int Run(string[] args)
    {
        if (args.Length is < 1 or > 2 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: MeshBulkheads.Bench alloc-top <trace.nettrace> [n]");
            return 2;
        }

        var n = args.Length == 2 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20;
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        var samples = 0;
        using (var source = new EventPipeEventSource(args[0]))
        {
            source.Clr.GCAllocationTick += e =>
            {
                samples++;
                var type = string.IsNullOrEmpty(e.TypeName) ? "?" : e.TypeName;
                bytes[type] = bytes.GetValueOrDefault(type) + e.AllocationAmount64;
            };
            source.Process();
        }

        var total = bytes.Values.Sum();
        var top = bytes.OrderByDescending(kv => kv.Value).Take(n)
            .Select(kv => new { type = kv.Key, bytes = kv.Value, share = total == 0 ? 0 : (double)kv.Value / total });
        Console.WriteLine(JsonSerializer.Serialize(new { samples, sampledBytes = total, top }));
        return 0;
    }
}
