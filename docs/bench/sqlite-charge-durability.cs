// Charge latency and throughput of the SQLite ledger with synchronous=FULL (the default) or NORMAL, on the
// real charge path (SqliteLedgerStore.ChargeAsync: pool, BEGIN IMMEDIATE, idempotency lookup, insert, update,
// commit). Usage, from the repository root:
//   dotnet run -c Release docs/bench/sqlite-charge-durability.cs -- FULL 5
//   dotnet run -c Release docs/bench/sqlite-charge-durability.cs -- NORMAL 5
// Arguments: the synchronous mode, then seconds per phase. The database is a fresh file under the temp directory.
#:sdk Microsoft.NET.Sdk.Web
#:project ../../services/MeshBulkheads.Payments/MeshBulkheads.Payments.csproj
#:property TreatWarningsAsErrors=false
using System.Diagnostics.Metrics;
using System.Globalization;
using MeshBulkheads.Payments;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger;
using Microsoft.Extensions.Options;

var mode = args.Length > 0 ? args[0].ToUpperInvariant() : "FULL";
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
if (mode is not ("FULL" or "NORMAL"))
{
    Console.Error.WriteLine("usage: sqlite-charge-durability.cs FULL|NORMAL [seconds]");
    return 2;
}

var directory = Path.Combine(Path.GetTempPath(), "mesh-sqlite-bench-" + Guid.NewGuid().ToString("N")[..8]);
using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
var store = new SqliteLedgerStore(
    Options.Create(new PaymentsOptions { DataDirectory = directory }),
    new DbPoolMetrics(services.GetRequiredService<IMeterFactory>()),
    TimeProvider.System);
await store.InitializeAsync(CancellationToken.None);

// The charge pool is the single writer connection: set the mode on it.
using (var lease = await store.ChargePool.AcquireAsync(CancellationToken.None))
{
    await using var command = lease.Connection.CreateCommand();
    command.CommandText = $"PRAGMA synchronous={mode}";
    await command.ExecuteNonQueryAsync();
    command.CommandText = "PRAGMA synchronous";
    Console.WriteLine($"synchronous = {await command.ExecuteScalarAsync()} (2 = FULL, 1 = NORMAL), file {store.DatabasePath}");
}

var n = 0;
ChargeCommand Next(int account) => new("bench", $"acct-{account:0000}", 100, "USD", $"k-{Interlocked.Increment(ref n)}");

// Warm-up (JIT, file growth).
for (var i = 0; i < 500; i++)
{
    await store.ChargeAsync(Next(i % 100), CancellationToken.None);
}

// Phase 1: one caller, each charge timed.
var latencies = new List<double>();
var end = TimeProvider.System.GetTimestamp() + (long)(seconds * (double)TimeProvider.System.TimestampFrequency);
while (TimeProvider.System.GetTimestamp() < end)
{
    var start = TimeProvider.System.GetTimestamp();
    await store.ChargeAsync(Next(latencies.Count % 100), CancellationToken.None);
    latencies.Add(TimeProvider.System.GetElapsedTime(start).TotalMilliseconds);
}

latencies.Sort();
double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
Console.WriteLine($"serial: {latencies.Count} charges in {seconds} s = {latencies.Count / (double)seconds:0} /s; p50 {Percentile(0.50):0.000} ms, p99 {Percentile(0.99):0.000} ms");

// Phase 2: 16 concurrent callers on 16 accounts (they queue for the one writer, as behind 16 partitions).
var done = 0;
end = TimeProvider.System.GetTimestamp() + (long)(seconds * (double)TimeProvider.System.TimestampFrequency);
await Task.WhenAll(Enumerable.Range(0, 16).Select(async worker =>
{
    while (TimeProvider.System.GetTimestamp() < end)
    {
        await store.ChargeAsync(Next(worker), CancellationToken.None);
        Interlocked.Increment(ref done);
    }
}));
Console.WriteLine($"sustained (16 concurrent): {done / (double)seconds:0} charges/s");

await store.DisposeAsync();
Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.Delete(directory, recursive: true);
return 0;
