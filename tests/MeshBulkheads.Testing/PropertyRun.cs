using System.Globalization;
using CsCheck;

namespace MeshBulkheads.Testing;

/// <summary>
/// Runs a CsCheck property over a deterministic sequence of cases, one run seed deciding every case, so a run is
/// replayed exactly by <c>MESH_PROPERTY_SEED=&lt;run seed&gt;</c>. The seed is written to the test output on
/// every run. A failing case is shrunk by CsCheck (starting from the failing case, smaller cases only) and the
/// failure names the run seed, the failing case's seed and the shrunk case's seed;
/// <c>MESH_PROPERTY_SEED=&lt;CsCheck seed&gt;</c> (not a number) replays that one case before the run.
/// </summary>
public static class PropertyRun
{
    /// <summary>The environment variable that replays a run (a decimal run seed) or one case (a CsCheck seed).</summary>
    public const string SeedVariable = "MESH_PROPERTY_SEED";

    /// <summary>Random cases CsCheck tries (smaller ones only are run) when shrinking a failure.</summary>
    public const int ShrinkIterations = 400;

    /// <summary>Asserts <paramref name="property"/> for <paramref name="cases"/> cases of <paramref name="gen"/>, one at a time.</summary>
    /// <returns>The number of cases run.</returns>
    public static async Task<int> CheckAsync<T>(string name, Gen<T> gen, int cases, Func<T, Task> property, Func<T, string> print)
    {
        var output = TestContext.Current.TestOutputHelper;
        var configured = Environment.GetEnvironmentVariable(SeedVariable);
        string? caseSeed = null;
        if (!ulong.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var runSeed))
        {
            caseSeed = string.IsNullOrWhiteSpace(configured) ? null : configured.Trim();
            runSeed = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
        }

        output?.WriteLine($"{name}: {SeedVariable}={runSeed.ToString(CultureInfo.InvariantCulture)}, {cases} cases{(caseSeed is null ? string.Empty : $", first the case {caseSeed}")}.");
        var run = 0;
        if (caseSeed is not null)
        {
            await RunCaseAsync(name, gen, property, print, caseSeed, runSeed, -1);
            run++;
        }

        var master = new PCG(0, runSeed);
        for (var i = 0; i < cases; i++)
        {
            var seed = new PCG(master.Next(), master.Next64()).ToString();
            await RunCaseAsync(name, gen, property, print, seed, runSeed, i);
            run++;
        }

        output?.WriteLine($"{name}: {run} cases passed.");
        return run;
    }

    private static async Task RunCaseAsync<T>(string name, Gen<T> gen, Func<T, Task> property, Func<T, string> print, string seed, ulong runSeed, int index)
    {
        try
        {
            await gen.SampleAsync(property, seed: seed, iter: 1, threads: 1, print: print);
        }
        catch (Exception failure)
        {
            // CsCheck starts from the failing case and runs only smaller candidates, keeping the smallest failure.
            string shrunk;
            try
            {
                await gen.SampleAsync(property, seed: seed, iter: ShrinkIterations, threads: 1, print: print);
                shrunk = "The case passed when run again (state-dependent): no shrunk case.";
            }
            catch (Exception smallest)
            {
                shrunk = smallest.Message + Environment.NewLine + (smallest.InnerException?.Message ?? string.Empty);
            }

            var where = index < 0 ? "the replayed case" : $"case {index}";
            Assert.Fail(
                $"{name} failed at {where} (case seed {seed}) of the run {SeedVariable}={runSeed.ToString(CultureInfo.InvariantCulture)}. " +
                $"Replay the run with {SeedVariable}={runSeed.ToString(CultureInfo.InvariantCulture)}, one case with {SeedVariable}=<its CsCheck seed>.{Environment.NewLine}" +
                $"Shrunk: {shrunk}{Environment.NewLine}First failure: {failure.Message}{Environment.NewLine}{failure.InnerException?.Message}");
        }
    }
}
