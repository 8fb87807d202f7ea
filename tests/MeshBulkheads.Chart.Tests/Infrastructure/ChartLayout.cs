using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chart.Tests.Infrastructure;

/// <summary>Where the chart, its CI values files and the tools the checks run are.</summary>
internal static class ChartLayout
{
    /// <summary>The release name and namespace every render uses (docs/kubernetes.md installs the same).</summary>
    public const string ReleaseName = "meshbulkheads";

    public const string Namespace = "meshbulkheads";

    /// <summary>Kubernetes versions rendered: the chart's floor (native preStop.sleep) and Helm 4.1's default.</summary>
    public static readonly string[] KubeVersions = ["1.30.0", "1.35.0"];

    /// <summary>The profile rendered without <c>-f</c>.</summary>
    public const string DefaultProfile = "default";

    public static string Root => RepositoryLayout.Root;

    public static string ChartDirectory => Path.Combine(Root, "helm", "meshbulkheads");

    public static string NodeDirectory => Path.Combine(Root, "tests", "MeshBulkheads.Chart.Tests", "node");

    /// <summary>Scratch space under artifacts/ (per worktree, ignored by git).</summary>
    public static string ScratchDirectory
    {
        get
        {
            var path = Path.Combine(Root, "artifacts", "chart-tests");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>
    /// The profiles: <c>default</c> and every <c>ci/&lt;name&gt;-values.yaml</c> (the names chart-testing reads);
    /// a ci file named <c>default-values.yaml</c> is rendered as profile <c>default</c> with that file.
    /// </summary>
    public static IReadOnlyList<string> Profiles
    {
        get
        {
            var ci = Path.Combine(ChartDirectory, "ci");
            var names = Directory.Exists(ci)
                ? Directory.GetFiles(ci, "*-values.yaml").Select(f => Path.GetFileName(f)[..^"-values.yaml".Length]).ToList()
                : [];
            if (!names.Contains(DefaultProfile))
            {
                names.Add(DefaultProfile);
            }

            return [.. names.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The values file of a profile, or null for the chart's defaults alone.</summary>
    public static string? ValuesFile(string profile)
    {
        var path = Path.Combine(ChartDirectory, "ci", profile + "-values.yaml");
        return File.Exists(path) ? path : null;
    }

    /// <summary>helm from .tools/bin (scripts/ensure-deps.sh helm); skips locally, fails under CI=true, when absent.</summary>
    public static string RequireHelm()
    {
        var path = Path.Combine(Root, ".tools", "bin", "helm");
        if (!File.Exists(path))
        {
            ServerRequirement.Unavailable($"helm is not installed at {path} (scripts/ensure-deps.sh helm)");
        }

        return path;
    }

    /// <summary>node with the chart tests' packages installed (scripts/ensure-deps.sh node).</summary>
    public static string RequireNode()
    {
        var node = ServerRequirement.FindExecutable("node", "/usr/bin");
        if (node is null || !Directory.Exists(Path.Combine(NodeDirectory, "node_modules", "kubernetes-models")))
        {
            ServerRequirement.Unavailable($"node and the packages of {NodeDirectory} are needed (scripts/ensure-deps.sh node)");
        }

        return node!;
    }

    public static string RequireExecutable(string name, string package)
    {
        var path = ServerRequirement.FindExecutable(name, "/usr/bin");
        if (path is null)
        {
            ServerRequirement.Unavailable($"{name} is not installed (apt-get install {package}; scripts/ensure-deps.sh apt)");
        }

        return path!;
    }
}
