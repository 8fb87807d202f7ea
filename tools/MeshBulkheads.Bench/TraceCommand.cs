using System.Globalization;
using System.Text.Json;

namespace MeshBulkheads.Bench;

/// <summary>The command line of the trace reports (<c>alloc-top</c>, <c>cpu-top</c>): <c>&lt;trace.nettrace&gt; [n]</c>, JSON on stdout.</summary>
internal static class TraceCommand
{
    public static int Run<TReport>(string[] args, string command, Func<string, int, TReport> report)
    {
        if (args.Length is < 1 or > 2 || !File.Exists(args[0]) || (args.Length == 2 && !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            Console.Error.WriteLine($"usage: MeshBulkheads.Bench {command} <trace.nettrace> [n]");
            return 2;
        }

        var n = args.Length == 2 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        // camelCase property names (JsonSerializerOptions.Web): bench.sh reads them with jq.
        Console.WriteLine(JsonSerializer.Serialize(report(args[0], n), JsonSerializerOptions.Web));
        return 0;
    }
}
