using MeshBulkheads.Bench;

// make bench's helpers (scripts/bench.sh):
//   bare-yarp   one YARP route to one h2c destination, no gateway feature, the mesh's OpenTelemetry setup
//   otlp-sink   an OTLP/gRPC receiver that answers every export with an empty success and keeps nothing
//   render      docs/benchmarks.json → docs/benchmarks.md
//   alloc-top   the top allocating types of a dotnet-trace gc-verbose trace (JSON)
//   cpu-top     the top methods of a dotnet-trace thread-time trace, waiting samples dropped (JSON)
return args.FirstOrDefault() switch
{
    "bare-yarp" => await BareYarp.RunAsync(args[1..]),
    "otlp-sink" => await OtlpSink.RunAsync(args[1..]),
    "render" when args.Length == 3 => BenchReport.RenderFile(args[1], args[2]),
    "alloc-top" => AllocationTop.Run(args[1..]),
    "cpu-top" => CpuTop.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MeshBulkheads.Bench bare-yarp|otlp-sink [configuration...] | render <benchmarks.json> <benchmarks.md> | alloc-top|cpu-top <trace.nettrace> [n]");
    return 2;
}
