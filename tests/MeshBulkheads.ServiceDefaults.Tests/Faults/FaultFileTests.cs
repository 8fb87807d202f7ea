using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MeshBulkheads.ServiceDefaults.Faults;

namespace MeshBulkheads.ServiceDefaults.Tests.Faults;

/// <summary>
/// In the cluster the faults ConfigMap is the one writer (docs/faults.md): the mounted document is applied at start
/// and on change with its own generation, an invalid one keeps the last good faults, and the API answers 409.
/// </summary>
public sealed class FaultFileTests : IDisposable
{
    private const string Token = "fault-file-tests-admin-token-0123456789";
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("meshbulkheads-faults-");

    private string File => Path.Combine(_directory.FullName, "faults.json");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Start_FaultsFile_AppliedWithItsGenerationReloadedOnChangeAndWritesConflict()
    {
        // Arrange
        await System.IO.File.WriteAllTextAsync(File, """{"generation": 7, "faults": [{"kind": "error", "target": "store"}]}""", Ct);
        await using var host = await new FakePaymentsHost().StartAsync(b =>
        {
            b.Configuration["Mesh:Faults:File"] = File;
            b.Configuration["Mesh:Admin:Token"] = Token;
        });
        using var admin = host.CreateAdminClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // Act
        var atStart = await StateAsync(admin);
        using var put = await admin.PutAsync(FaultEndpoints.Path, new StringContent("""{"faults": []}""", Encoding.UTF8, "application/json"), Ct);
        await System.IO.File.WriteAllTextAsync(File, """{"generation": 8, "faults": [{"kind": "latency", "target": "server", "latencyMs": 5}, {"kind": "cpu", "cpuMs": 1}]}""", Ct);
        var reloaded = await WaitForGenerationAsync(admin, 8);

        // Assert
        Assert.Equal(7, atStart.GetProperty("generation").GetInt64());
        Assert.Equal("error", Assert.Single(atStart.GetProperty("faults").EnumerateArray()).GetProperty("kind").GetString());
        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal(8, reloaded.GetProperty("generation").GetInt64());
        Assert.Equal(2, reloaded.GetProperty("faults").GetArrayLength());
    }

    [Fact]
    public async Task Load_InvalidDocument_LastGoodFaultsAndGenerationStay()
    {
        // Arrange
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger<MeshFaults>.Instance;
        var faults = new MeshFaults(time, new TestMeterFactory(), logger, []);
        var environment = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" };
        var watcher = new MeshBulkheads.ServiceDefaults.Faults.Internal.FaultFileWatcher(faults, Microsoft.Extensions.Options.Options.Create(new MeshFaultOptions { File = File, Enabled = true }), environment, time, logger);
        await System.IO.File.WriteAllTextAsync(File, """{"generation": 3, "faults": [{"kind": "error"}]}""", Ct);
        watcher.Load(File);

        // Act: an unknown kind, then not JSON at all.
        await System.IO.File.WriteAllTextAsync(File, """{"generation": 4, "faults": [{"kind": "teleport"}]}""", Ct);
        watcher.Load(File);
        await System.IO.File.WriteAllTextAsync(File, "{not json", Ct);
        watcher.Load(File);

        // Assert
        Assert.Equal(3, faults.Generation);
        Assert.Equal(FaultKinds.Error, Assert.Single(faults.Active()).Kind);
    }

    private static async Task<JsonElement> WaitForGenerationAsync(HttpClient admin, long generation)
    {
        // The file watcher applies a change within a few seconds; bounded, then the last state is asserted on.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var state = await StateAsync(admin);
            if (state.GetProperty("generation").GetInt64() == generation || timeout.IsCancellationRequested)
            {
                return state;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> StateAsync(HttpClient admin) =>
        JsonDocument.Parse(await admin.GetStringAsync(new Uri(FaultEndpoints.Path, UriKind.Relative), Ct)).RootElement.Clone();
}
