using System.Text.RegularExpressions;

namespace MeshBulkheads.Observability.Tests;

/// <summary>
/// docs/tour.md has a step for every row of the seed listed in docs/tour-rows, and every step names its
/// command (<c>make tour STEP=n</c>, a <c>step_n</c> in scripts/tour.sh), a metric from docs/metrics.md and
/// code that exists. A step marked <c>Pending</c> waits for work on another branch: its metric may not be
/// documented yet, everything else is checked the same.
/// </summary>
public sealed partial class TourDocumentTests
{
    private readonly IReadOnlyList<TourStep> _steps = TourDocument.Steps();

    [Fact]
    public void Rows_EveryRowOfTheSeed_HasExactlyOneStep()
    {
        // Arrange
        var rows = TourDocument.RowIds();
        var stepRows = _steps.Select(s => s.Quoted("Row") is [var row, ..] ? row : null).ToList();

        // Act
        var missing = rows.Where(r => !stepRows.Contains(r)).ToList();
        var repeated = stepRows.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var unknown = stepRows.Where(r => r is null || !rows.Contains(r)).ToList();

        // Assert
        Assert.Equal(19, rows.Count);
        Assert.True(missing.Count == 0, "rows without a step in docs/tour.md: " + string.Join(", ", missing));
        Assert.True(repeated.Count == 0, "rows with more than one step: " + string.Join(", ", repeated));
        Assert.True(unknown.Count == 0, "steps whose Row is not in docs/tour-rows: " + string.Join(", ", unknown));
    }

    [Fact]
    public void Steps_NumberedFromOne_AsManyAsTheScriptRuns()
    {
        // Arrange
        var script = File.ReadAllText(ObservabilityFiles.TourScript);
        var count = ScriptStepCount().Match(script);

        // Act
        var numbers = _steps.Select(s => s.Number).ToList();

        // Assert
        Assert.Equal(Enumerable.Range(1, _steps.Count), numbers);
        Assert.True(count.Success, "scripts/tour.sh has no 'readonly steps=N'");
        Assert.Equal(_steps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), count.Groups["n"].Value);
    }

    [Fact]
    public void Run_EveryStep_IsItsMakeTourStepAndAFunctionOfTheScript()
    {
        // Arrange
        var script = File.ReadAllText(ObservabilityFiles.TourScript);

        // Act
        var broken = _steps
            .Where(s => !(s.Field("Run") ?? "").Contains($"`make tour STEP={s.Number}`", StringComparison.Ordinal)
                || !script.Contains($"\nstep_{s.Number}() {{", StringComparison.Ordinal))
            .Select(s => s.Number)
            .ToList();

        // Assert
        Assert.NotEmpty(_steps);
        Assert.True(broken.Count == 0, "steps without `make tour STEP=n` in Run or without step_n() in scripts/tour.sh: " + string.Join(", ", broken));
    }

    [Fact]
    public void Watch_EveryStep_NamesAMetricOfMetricsDoc()
    {
        // Arrange
        var documented = MetricsDocument.Load().SeriesNames();

        // Act
        var broken = _steps
            .Select(s => (s.Number, Metrics: s.Quoted("Watch").Select(q => q.Split('{')[0]).Where(q => MetricName().IsMatch(q)).ToList(), Pending: s.Field("Pending") is not null))
            .Where(s => s.Metrics.Count == 0 || (!s.Pending && s.Metrics.Any(m => !documented.Contains(m))))
            .Select(s => $"step {s.Number}: [{string.Join(", ", s.Metrics)}]")
            .ToList();

        // Assert
        Assert.True(broken.Count == 0, "steps whose Watch names no metric, or one docs/metrics.md lacks: " + string.Join("; ", broken));
    }

    [Fact]
    public void Code_EveryStep_PointsAtPathsThatExist()
    {
        // Act
        var broken = _steps
            .Select(s => (s.Number, Paths: s.Quoted("Code")))
            .Where(s => s.Paths.Count == 0 || s.Paths.Any(p => !File.Exists(Path.Combine(ObservabilityFiles.RepoRoot, p)) && !Directory.Exists(Path.Combine(ObservabilityFiles.RepoRoot, p))))
            .Select(s => $"step {s.Number}: [{string.Join(", ", s.Paths)}]")
            .ToList();

        // Assert
        Assert.True(broken.Count == 0, "steps whose Code names no path, or a path that does not exist: " + string.Join("; ", broken));
    }

    [Fact]
    public void Text_EveryStep_HasAnInterviewAnswerAndAnExplanation()
    {
        // Act
        var broken = _steps
            .Where(s => string.IsNullOrWhiteSpace(s.Field("Interview")) || s.Prose.Length < 200)
            .Select(s => s.Number)
            .ToList();

        // Assert
        Assert.True(broken.Count == 0, "steps without an Interview line or an explanation paragraph: " + string.Join(", ", broken));
    }

    [GeneratedRegex(@"^readonly steps=(?<n>\d+)$", RegexOptions.Multiline)]
    private static partial Regex ScriptStepCount();

    [GeneratedRegex("^(meshbulkheads|dotnet|http|kestrel)_[a-z0-9_]+$")]
    private static partial Regex MetricName();
}
