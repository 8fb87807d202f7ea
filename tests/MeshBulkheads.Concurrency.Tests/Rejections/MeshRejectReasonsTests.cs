using System.Text.RegularExpressions;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Concurrency.Tests.Rejections;

/// <summary>The one list of reasons against the README's table, and the two spellings.</summary>
public sealed partial class MeshRejectReasonsTests
{
    [Fact]
    public void All_ReadmeReasonTable_SameReasonsBothWays()
    {
        // Arrange
        var readme = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "README.md"));
        var start = readme.IndexOf("<!-- reject-reasons:start -->", StringComparison.Ordinal);
        var end = readme.IndexOf("<!-- reject-reasons:end -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no <!-- reject-reasons:start/end --> table");

        // Act
        var documented = ReasonCell().Matches(readme[start..end]).Select(m => m.Groups[1].Value).Where(r => r != MeshMetadata.RejectReason).ToHashSet(StringComparer.Ordinal);
        var inCode = MeshRejectReasons.All.Select(r => r.WireValue).ToHashSet(StringComparer.Ordinal);

        // Assert
        Assert.Empty(inCode.Except(documented));
        Assert.Empty(documented.Except(inCode));
    }

    [Fact]
    public void All_EveryReason_KebabWireValueAndSnakeMetricTag()
    {
        // Act
        var reasons = MeshRejectReasons.All;

        // Assert
        Assert.Equal(reasons.Count, reasons.Select(r => r.WireValue).Distinct(StringComparer.Ordinal).Count());
        Assert.All(reasons, r => Assert.DoesNotContain('_', r.WireValue));
        Assert.All(reasons, r => Assert.Equal(r.WireValue.Replace('-', '_'), r.MetricTag));
        Assert.Equal("queue_full", MeshRejectReasons.All.Single(r => r.WireValue == MeshRejectReasons.QueueFull).MetricTag);
        Assert.Equal("downstream-deadline-exceeded", MeshRejectReasons.Downstream(StatusCode.DeadlineExceeded));
    }

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex ReasonCell();
}
