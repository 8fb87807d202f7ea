using MeshBulkheads.Bench;

// make bench's helpers (scripts/bench.sh):
//   bare-yarp   one YARP route to one h2c destination, no gateway feature, the mesh's OpenTelemetry setup
//   otlp-sink   an OTLP/gRPC receiver that answers every export with an empty success and keeps nothing
//   render      docs/benchmarks.json → docs/benchmarks.md
return args.FirstOrDefault() switch
{
    "bare-yarp" => await BareYarp.RunAsync(args[1..]),
    "otlp-sink" => await OtlpSink.RunAsync(args[1..]),
    "render" when args.Length == 3 => BenchReport.RenderFile(args[1], args[2]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MeshBulkheads.Bench bare-yarp|otlp-sink [configuration...] | render <benchmarks.json> <benchmarks.md>");
    return 2;
}
