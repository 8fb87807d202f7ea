using BenchmarkDotNet.Running;
using MeshBulkheads.Benchmarks;

// `alloc [pipeline] [calls] [json]`: the allocation profile of the gateway pipeline; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "alloc")
{
    return await AllocationProfile.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(AcquireReleaseBenchmarks).Assembly).Run(args);
return 0;
