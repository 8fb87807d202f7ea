using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(MeshBulkheads.Benchmarks.AcquireReleaseBenchmarks).Assembly).Run(args);
