using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>helm 4 (pinned build in .tools/bin) against the chart in the repository.</summary>
internal static class Helm
{
    /// <summary>
    /// <c>helm template</c> of the chart for one Kubernetes version, with the values files and <c>--set</c>
    /// pairs given (later ones win). A render-time guard (<c>{{ fail }}</c>) makes it exit non-zero.
    /// </summary>
    public static Task<ToolResult> TemplateAsync(
        string kubeVersion,
        IEnumerable<string>? valuesFiles = null,
        IEnumerable<string>? setValues = null,
        CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["template", ChartLayout.ReleaseName, ChartLayout.ChartDirectory, "--namespace", ChartLayout.Namespace, "--kube-version", kubeVersion];
        foreach (var file in valuesFiles ?? [])
        {
            arguments.Add("-f");
            arguments.Add(file);
        }

        foreach (var set in setValues ?? [])
        {
            arguments.Add("--set");
            arguments.Add(set);
        }

        return RunAsync(arguments, cancellationToken);
    }

    public static Task<ToolResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        Tool.RunAsync(ChartLayout.RequireHelm(), arguments, ChartLayout.Root, TimeSpan.FromSeconds(60), cancellationToken: cancellationToken);
}
