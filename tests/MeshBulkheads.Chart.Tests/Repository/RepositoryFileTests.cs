using System.Text.RegularExpressions;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chart.Tests.Repository;

/// <summary>The Dockerfile(s), scripts, YAML files and the chart README, checked by their own tools and against the chart.</summary>
public sealed partial class RepositoryFileTests(ChartRenders renders)
{
    [Fact]
    public void Dockerfiles_EveryExternalFrom_IsPinnedByFullVersionOrDigest()
    {
        // Arrange
        var dockerfiles = Dockerfile.FindAll();

        // Act
        var floating = dockerfiles.SelectMany(d => d.Stages.Where(s => !d.IsStage(s.From) && !PinnedImage().IsMatch(s.From)).Select(s => $"{d.Path}: FROM {s.From}")).ToList();

        // Assert
        Assert.NotEmpty(dockerfiles);
        Assert.True(floating.Count == 0, "base images not pinned by full version (x.y.z) or digest: " + string.Join("; ", floating));
    }

    [Fact]
    public async Task Dockerfiles_EveryComponentImage_RunsAsNumericUserAndExposesExactlyItsTwoPorts()
    {
        // Arrange: each image's target is named like its component; its ports are the chart's container ports.
        var render = await renders.DefaultAsync();
        var dockerfiles = Dockerfile.FindAll();
        var failures = new List<string>();

        // Act
        foreach (var pod in render.PodTemplates.Where(p => !p.IsHook))
        {
            // meshload is a client image, checked by Dockerfiles_MeshloadImage_RunsAsNumericUserAndExposesNothing.
            foreach (var c in pod.Spec.Containers.Where(c => c.Image.Contains("meshbulkheads/", StringComparison.Ordinal) && !c.Image.Contains("meshbulkheads/meshload:", StringComparison.Ordinal)))
            {
                var stage = dockerfiles.Select(d => (File: d, Stage: d.Stages.LastOrDefault(s => s.Name == c.Name))).FirstOrDefault(x => x.Stage is not null);
                if (stage.Stage is null)
                {
                    failures.Add($"{c.Name}: no Dockerfile target named '{c.Name}'");
                    continue;
                }

                var user = stage.File.Effective(stage.Stage, s => s.User);
                if (user is null || !NumericUser().IsMatch(user))
                {
                    failures.Add($"{c.Name}: USER '{user}' is not numeric (runAsNonRoot needs a numeric USER)");
                }

                var exposed = stage.File.Chain(stage.Stage).SelectMany(s => s.Expose).Select(p => p.Split('/')[0]).Order().ToList();
                var ports = (c.Ports ?? []).Select(p => p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
                if (!exposed.SequenceEqual(ports) || exposed.Count != 2)
                {
                    failures.Add($"{c.Name}: EXPOSE {string.Join(' ', exposed)}, container ports {string.Join(' ', ports)} (exactly its two ports)");
                }
            }
        }

        // Assert
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("loadgen")]
    public async Task Dockerfiles_MeshloadImage_RunsAsNumericUserAndExposesNothing(string profile)
    {
        // Arrange: the chart's meshload containers (helm test, load Job) are built from the `meshload` target.
        var render = await renders.GetAsync(profile, ChartLayout.KubeVersions[^1]);
        var dockerfiles = Dockerfile.FindAll();
        var containers = render.PodTemplates.SelectMany(p => p.Spec.Containers).Where(c => c.Image.Contains("meshbulkheads/meshload:", StringComparison.Ordinal)).ToList();
        var stage = dockerfiles.Select(d => (File: d, Stage: d.Stages.LastOrDefault(s => s.Name == "meshload"))).FirstOrDefault(x => x.Stage is not null);

        // Act
        var user = stage.Stage is null ? null : stage.File.Effective(stage.Stage, s => s.User);
        var exposed = stage.Stage is null ? [] : stage.File.Chain(stage.Stage).SelectMany(s => s.Expose).ToList();
        var external = stage.Stage is null ? null : stage.File.Chain(stage.Stage).Last().From;

        // Assert
        Assert.NotEmpty(containers);
        Assert.All(containers, c => Assert.Equal("meshload", c.Name));
        Assert.NotNull(stage.Stage);
        Assert.True(user is not null && NumericUser().IsMatch(user), $"meshload: USER '{user}' is not numeric (runAsNonRoot needs a numeric USER)");
        Assert.True(exposed.Count == 0, $"meshload listens on nothing, yet EXPOSE {string.Join(' ', exposed)}");
        Assert.Matches(PinnedImage(), external);
        Assert.Contains("meshload", File.ReadAllText(Path.Combine(ChartLayout.Root, "scripts", "k8s.sh")).Split('\n').Single(l => l.StartsWith("readonly images=", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dockerignore_BuildContext_KeepsToolsAndSourcesIn()
    {
        // Arrange: the load generator image (tools/) comes with its issue; the hosts need libs/ and protos/.
        var path = Path.Combine(ChartLayout.Root, ".dockerignore");
        Assert.True(File.Exists(path), ".dockerignore is missing");
        var patterns = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        // Assert
        foreach (var kept in new[] { "tools", "libs", "protos", "services", "gateway" })
        {
            Assert.DoesNotContain(patterns, p => p.TrimEnd('/') == kept || p.TrimEnd('/') == kept + "/**" || p == "*");
        }
    }

    [Fact]
    public async Task KindE2e_EveryMakeTargetItCalls_ExistsInTheMakefile()
    {
        // Arrange
        var script = await File.ReadAllTextAsync(Path.Combine(ChartLayout.Root, "scripts", "kind-e2e.sh"), TestContext.Current.CancellationToken);
        var makefile = await File.ReadAllLinesAsync(Path.Combine(ChartLayout.Root, "Makefile"), TestContext.Current.CancellationToken);
        var targets = makefile.Select(l => MakeRule().Match(l)).Where(m => m.Success).SelectMany(m => m.Groups["targets"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);

        // Act
        var called = script.Split('\n').Where(l => !l.TrimStart().StartsWith('#'))
            .SelectMany(l => MakeCall().Matches(l).SelectMany(m => m.Groups["targets"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .Where(t => !t.StartsWith('-') && !t.Contains('=', StringComparison.Ordinal))
            .Distinct().ToList();

        // Assert
        Assert.NotEmpty(called);
        var missing = called.Where(t => !targets.Contains(t)).ToList();
        Assert.True(missing.Count == 0, "scripts/kind-e2e.sh calls make targets the Makefile lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task KindE2e_DocsAndCiWorkflow_RunTheSameScript()
    {
        // Arrange: one script, so the doc cannot drift from what CI runs.
        var doc = await File.ReadAllTextAsync(Path.Combine(ChartLayout.Root, "docs", "kubernetes.md"), TestContext.Current.CancellationToken);
        var workflows = Directory.GetFiles(Path.Combine(ChartLayout.Root, ".github", "workflows"), "*.y*ml").Select(File.ReadAllText).ToList();

        // Assert
        Assert.Contains("scripts/kind-e2e.sh", doc, StringComparison.Ordinal);
        Assert.Contains(workflows, w => w.Contains("scripts/kind-e2e.sh", StringComparison.Ordinal) || w.Contains("make kind-e2e", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Yamllint_RepositoryYaml_Passes()
    {
        // Arrange
        var yamllint = ChartLayout.RequireExecutable("yamllint", "yamllint");
        var files = GitFiles("*.yaml", "*.yml").Where(f => !f.Contains("/templates/", StringComparison.Ordinal) && !f.Contains("node_modules", StringComparison.Ordinal)).ToList();

        // Act
        var result = await Tool.RunAsync(yamllint, ["-f", "parsable", "-c", Path.Combine(ChartLayout.Root, "tests", "MeshBulkheads.Chart.Tests", "yamllint.yaml"), .. files], cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Contains(files, f => f.StartsWith(".github/workflows/", StringComparison.Ordinal));
        Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
    }

    [Fact]
    public async Task Shellcheck_EveryScript_Passes()
    {
        // Arrange: every shell script in the repository, wherever it lives (lint-scripts covers scripts/ and .ci/run).
        var shellcheck = ChartLayout.RequireExecutable("shellcheck", "shellcheck");
        var scripts = GitFiles("*.sh").Append(".ci/run").Where(f => File.Exists(Path.Combine(ChartLayout.Root, f))).Distinct().ToList();

        // Act
        var result = await Tool.RunAsync(shellcheck, scripts, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Contains("scripts/kind-e2e.sh", scripts);
        Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
    }

    [Fact]
    public async Task ReadmeValuesTable_RegeneratedFromValuesComments_IsUnchanged()
    {
        // Arrange: the generator refuses a value without a `## @param` comment, and rewrites the table.
        var node = ChartLayout.RequireNode();
        var readme = Path.Combine(ChartLayout.ChartDirectory, "README.md");
        Assert.True(File.Exists(readme), "helm/meshbulkheads/README.md (with a `## Parameters` section) is missing");
        var copy = Path.Combine(Directory.CreateTempSubdirectory("meshbulkheads-readme-").FullName, "README.md");
        File.Copy(readme, copy);
        var generator = Path.Combine(ChartLayout.NodeDirectory, "node_modules", "@bitnami", "readme-generator-for-helm", "bin", "index.js");

        // Act
        var result = await Tool.RunAsync(node, [generator, "--values", Path.Combine(ChartLayout.ChartDirectory, "values.yaml"), "--readme", copy], ChartLayout.NodeDirectory, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Succeeded, "readme-generator (every value needs a ## @param comment): " + result);
        Assert.True(await File.ReadAllTextAsync(copy, TestContext.Current.CancellationToken) == await File.ReadAllTextAsync(readme, TestContext.Current.CancellationToken),
            "helm/meshbulkheads/README.md's values table is stale: run `make helm-readme` (readme-generator-for-helm 2.7.2)");
        Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
    }

    private static List<string> GitFiles(params string[] patterns)
    {
        // Tracked and new-but-not-ignored files, so a file not committed yet is checked too.
        var files = new List<string>();
        foreach (var args in new[] { new[] { "ls-files" }, new[] { "ls-files", "--others", "--exclude-standard" } })
        {
            var result = Tool.RunAsync("git", [.. args, "--", .. patterns]).GetAwaiter().GetResult();
            Assert.True(result.Succeeded, result.ToString());
            files.AddRange(result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return [.. files.Distinct().Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"(:\d+\.\d+\.\d+[^:@]*(@sha256:[0-9a-f]{64})?$)|(@sha256:[0-9a-f]{64}$)")]
    private static partial Regex PinnedImage();

    [GeneratedRegex(@"^\d+(:\d+)?$")]
    private static partial Regex NumericUser();

    [GeneratedRegex(@"^(?<targets>[A-Za-z0-9_.\- ]+):(?!=)")]
    private static partial Regex MakeRule();

    [GeneratedRegex(@"(?:^|[;&|(]\s*|\s)make\s+(?<targets>(?:[A-Za-z0-9_.\-=]+\s*)+)")]
    private static partial Regex MakeCall();
}

/// <summary>A Dockerfile's stages: FROM, USER, EXPOSE, ENV (enough for the checks above).</summary>
internal sealed partial class Dockerfile
{
    internal sealed class Stage(string from, string? name)
    {
        public string From { get; } = from;

        public string? Name { get; } = name;

        public string? User { get; set; }

        public List<string> Expose { get; } = [];

        public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

        public List<string> Runs { get; } = [];
    }

    public required string Path { get; init; }

    public List<Stage> Stages { get; } = [];

    public bool IsStage(string from) => Stages.Any(s => s.Name == from);

    public IEnumerable<Stage> Chain(Stage stage)
    {
        for (var s = stage; s is not null; s = Stages.LastOrDefault(p => p.Name == s.From && p != s))
        {
            yield return s;
        }
    }

    /// <summary>The image's environment: ENV of the stage and the stages it is built FROM (nearest wins).</summary>
    public Dictionary<string, string> Environment(Stage stage)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in Chain(stage).Reverse())
        {
            foreach (var (k, v) in s.Env)
            {
                env[k] = v;
            }
        }

        return env;
    }

    public string? Effective(Stage stage, Func<Stage, string?> select) => Chain(stage).Select(select).FirstOrDefault(v => v is not null);

    public static List<Dockerfile> FindAll() =>
        [.. Directory.EnumerateFiles(ChartLayout.Root, "Dockerfile*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/artifacts/", StringComparison.Ordinal) && !f.Contains("node_modules", StringComparison.Ordinal) && !f.Contains("/.", StringComparison.Ordinal))
            .Select(Parse)];

    private static Dockerfile Parse(string path)
    {
        var file = new Dockerfile { Path = System.IO.Path.GetRelativePath(ChartLayout.Root, path) };
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        var text = File.ReadAllText(path).Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var rest = space < 0 ? string.Empty : line[(space + 1)..].Trim();
            switch (instruction)
            {
                case "ARG" when file.Stages.Count == 0 && rest.Contains('=', StringComparison.Ordinal):
                    args[rest[..rest.IndexOf('=', StringComparison.Ordinal)]] = rest[(rest.IndexOf('=', StringComparison.Ordinal) + 1)..];
                    break;
                case "FROM":
                    var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToArray();
                    var image = ArgReference().Replace(parts[0], m => args.GetValueOrDefault(m.Groups["name"].Value, m.Value));
                    file.Stages.Add(new Stage(image, parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null));
                    break;
                case "USER" when file.Stages.Count > 0:
                    file.Stages[^1].User = rest;
                    break;
                case "ENV" when file.Stages.Count > 0:
                    foreach (Match m in EnvPair().Matches(rest))
                    {
                        file.Stages[^1].Env[m.Groups["key"].Value] = m.Groups["value"].Value.Trim('"');
                    }

                    break;
                case "RUN" when file.Stages.Count > 0:
                    file.Stages[^1].Runs.Add(rest);
                    break;
                case "EXPOSE" when file.Stages.Count > 0:
                    file.Stages[^1].Expose.AddRange(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    break;
            }
        }

        return file;
    }

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_.]*)=(?<value>""[^""]*""|\S+)")]
    private static partial Regex EnvPair();

    [GeneratedRegex(@"\$\{?(?<name>[A-Za-z_][A-Za-z0-9_]*)\}?")]
    private static partial Regex ArgReference();
}
