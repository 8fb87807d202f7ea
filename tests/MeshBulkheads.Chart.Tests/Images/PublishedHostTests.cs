using System.Diagnostics;
using System.Text.RegularExpressions;
using MeshBulkheads.Chart.Tests.Configuration;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Chart.Tests.Repository;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chart.Tests.Images;

/// <summary>
/// Instead of an image build (no Docker here): the <c>dotnet publish</c> each image's Dockerfile stage
/// runs succeeds, and the published gateway and payments start as the image and chart start them —
/// the image's ENV, the container's rendered env and mounted files, Production, user 1654 on a
/// read-only app folder with only the declared writable mounts writable — and answer /readyz.
/// Published once into artifacts/chart-tests/publish and reused while the sources are unchanged.
/// </summary>
public sealed partial class PublishedHostTests(ChartRenders renders)
{
    private const int ImageUser = 1654;
    private static readonly SemaphoreSlim PublishLock = new(1, 1);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("gateway")]
    [InlineData("payments")]
    public async Task PublishedHost_ImageAndChartEnvironment_AnswersReadyz(string component)
    {
        // Arrange: the profile every component of which runs on one machine (SQLite, no Redis).
        var dockerfile = Dockerfile.FindAll().Single(d => d.Stages.Any(s => s.Name == component));
        var stage = dockerfile.Stages.Last(s => s.Name == component);
        var cached = await PublishAsync(dockerfile, component);
        var render = await renders.GetAsync("single-replica-sqlite", ChartLayout.KubeVersions[^1]);
        var pod = ComponentHosts.PodOf(render, component);

        // The image's user must reach the app and the mounts: the checkout's parents may be private
        // (/root), so both go under the system temp folder, owned by root, mode 755 (read-only to 1654).
        var scratch = Directory.CreateTempSubdirectory("meshbulkheads-image-");
        try
        {
            await Tool.RunAsync("chmod", ["755", scratch.FullName], cancellationToken: TestContext.Current.CancellationToken);
            var published = Path.Combine(scratch.FullName, "app");
            CopyDirectory(cached, published);
            using var sandbox = PodSandbox.Create(render, pod, component, dockerfile.Environment(stage), scratch.FullName);
            var env = PrepareEnvironment(sandbox);

            // Act
            var (ready, output) = await RunUntilReadyAsync(published, env, sandbox);

            // Assert
            Assert.True(ready, $"{component} (published, image environment, read-only app folder) did not answer /readyz with 200:{Environment.NewLine}{output}");
        }
        finally
        {
            await Tool.RunAsync("chmod", ["-R", "u+w", scratch.FullName], cancellationToken: TestContext.Current.CancellationToken);
            scratch.Delete(recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link);
            }
            else if (entry is DirectoryInfo)
            {
                CopyDirectory(entry.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }

    private static Dictionary<string, string?> PrepareEnvironment(PodSandbox sandbox)
    {
        var env = sandbox.Environment.ToDictionary(e => e.Key, e => (string?)e.Value);
        foreach (var (key, value) in env.ToList())
        {
            // Paths the image declares (a data folder) that no mount covers are on the read-only root filesystem.
            if (value is not null && value.StartsWith('/') && !value.StartsWith(sandbox.Root, StringComparison.Ordinal) && PathLikeKey().IsMatch(key))
            {
                var readOnly = sandbox.Root + value;
                Directory.CreateDirectory(readOnly);
                env[key] = readOnly;
            }
        }

        // Loopback only, ports chosen by the OS; no exporter to the cluster's Jaeger; the start-up line that gives the ports.
        env["Mesh__BindAddress"] = "127.0.0.1";
        env["Mesh__GrpcPort"] = "0";
        env["Mesh__AdminPort"] = "0";
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = null;
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        env["Logging__Console__FormatterName"] = "simple";
        env["ASPNETCORE_URLS"] = null;
        // $HOME and $TMPDIR as in the pod: /tmp is whatever the chart mounts there, $HOME is read-only.
        env["HOME"] = sandbox.Root;
        env["TMPDIR"] = sandbox.WritableMounts.TryGetValue("/tmp", out var tmp) ? tmp : sandbox.Root;
        return env;
    }

    private static async Task<(bool Ready, string Output)> RunUntilReadyAsync(string published, Dictionary<string, string?> env, PodSandbox sandbox)
    {
        var asRoot = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        ProcessStartInfo start;
        if (asRoot)
        {
            // Root writes anywhere whatever the mode bits: run as the image's user instead.
            var setpriv = ChartLayout.RequireExecutable("setpriv", "util-linux");
            foreach (var writable in sandbox.WritableMounts.Values)
            {
                await Tool.RunAsync("chown", ["-R", $"{ImageUser}:{ImageUser}", writable]);
            }

            start = new ProcessStartInfo(setpriv);
            foreach (var a in new[] { $"--reuid={ImageUser}", $"--regid={ImageUser}", "--clear-groups", "--", dotnet })
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            // Not root: the mode bits are enough to make the app folder read-only.
            await Tool.RunAsync("chmod", ["-R", "a-w", published]);
            start = new ProcessStartInfo(dotnet);
        }

        start.ArgumentList.Add(Path.Combine(published, "host.dll"));
        start.WorkingDirectory = published;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("Mesh__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (k, v) in env)
        {
            if (v is null)
            {
                start.Environment.Remove(k);
            }
            else
            {
                start.Environment[k] = v;
            }
        }

        var admin = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listening = new List<Uri>();
        void OnLine(string line)
        {
            var m = ListeningLine().Match(line);
            if (m.Success)
            {
                lock (listening)
                {
                    listening.Add(new Uri(m.Groups["url"].Value));
                    if (listening.Count == 2)
                    {
                        admin.TrySetResult(listening[1]); // ServiceDefaults listens on gRPC first, then admin.
                    }
                }
            }
        }

        using var process = new ServerProcess(start, outputLines: 2000, OnLine);
        process.Start();
        using var timeout = new CancellationTokenSource(ReadyTimeout);
        try
        {
            var adminUri = await admin.Task.WaitAsync(timeout.Token);
            using var client = new HttpClient { BaseAddress = adminUri };
            return await process.WaitUntilReadyAsync(ct => ServerProcess.AnswersOkAsync(client, "/readyz", ct), TimeSpan.FromMilliseconds(200), timeout.Token)
                ? (true, process.RecentOutput)
                : (false, $"exited {process.ExitCode}:{Environment.NewLine}{process.RecentOutput}");
        }
        catch (OperationCanceledException)
        {
            return (false, $"not ready within {ReadyTimeout.TotalSeconds} s:{Environment.NewLine}{process.RecentOutput}");
        }
        finally
        {
            await process.StopAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Runs the Dockerfile stage <c>publish-&lt;component&gt;</c>'s <c>dotnet publish</c> with the output
    /// moved under artifacts/, once per change of the sources (a stamp newer than every source file).
    /// </summary>
    private static async Task<string> PublishAsync(Dockerfile dockerfile, string component)
    {
        var stage = dockerfile.Stages.SingleOrDefault(s => s.Name == "publish-" + component)
            ?? dockerfile.Stages.Single(s => s.Name == component);
        var run = dockerfile.Chain(stage).SelectMany(s => s.Runs).FirstOrDefault(r => r.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.True(run is not null, $"{dockerfile.Path}: no `dotnet publish` for {component}");
        var command = run[run.IndexOf("dotnet publish", StringComparison.Ordinal)..].Split("&&")[0].Trim();
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        var output = words.IndexOf("-o");
        Assert.True(output >= 0, $"{dockerfile.Path}: {command} has no -o");
        var dir = Path.Combine(ChartLayout.ScratchDirectory, "publish", component);
        words[output + 1] = dir;
        var dll = run.Contains("host.dll", StringComparison.Ordinal) ? HostDll().Match(run).Groups["dll"].Value : null;

        await PublishLock.WaitAsync();
        try
        {
            var stamp = Path.Combine(dir, ".published");
            var newest = new[] { "libs", "services", "gateway", "protos" }
                .SelectMany(d => Directory.EnumerateFiles(Path.Combine(ChartLayout.Root, d), "*", SearchOption.AllDirectories))
                .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                .Append(Path.Combine(ChartLayout.Root, "Directory.Packages.props"))
                .Append(Path.Combine(ChartLayout.Root, dockerfile.Path))
                .Max(File.GetLastWriteTimeUtc);
            if (!File.Exists(stamp) || File.GetLastWriteTimeUtc(stamp) < newest)
            {
                var result = await Tool.RunAsync("dotnet", words, ChartLayout.Root, TimeSpan.FromMinutes(8));
                Assert.True(result.Succeeded, $"the image's publish failed: {result}");
                if (dll is { Length: > 0 })
                {
                    // The image's entry point: a symlink host.dll → the host's own dll, as its RUN line makes it.
                    File.Delete(Path.Combine(dir, "host.dll"));
                    File.CreateSymbolicLink(Path.Combine(dir, "host.dll"), dll);
                }

                await File.WriteAllTextAsync(stamp, command);
            }
        }
        finally
        {
            PublishLock.Release();
        }

        Assert.True(File.Exists(Path.Combine(dir, "host.dll")), $"{dir}/host.dll (the image's entry point) is missing");
        return dir;
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://[0-9A-Za-z.:\[\]]+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"ln -s (?<dll>\S+\.dll) \S*host\.dll")]
    private static partial Regex HostDll();

    [GeneratedRegex("(Directory|Dir|Path|File)$", RegexOptions.IgnoreCase)]
    private static partial Regex PathLikeKey();
}
