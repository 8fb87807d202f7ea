using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Tests.Rejections;

public sealed class CriticalityHeaderTests
{
    [Theory]
    [InlineData("critical", true, BulkheadCriticality.Critical)]
    [InlineData("SHEDDABLE", true, BulkheadCriticality.Sheddable)]
    [InlineData("urgent", false, BulkheadCriticality.Critical)]
    [InlineData("", false, BulkheadCriticality.Critical)]
    [InlineData(null, false, BulkheadCriticality.Critical)]
    public void TryParse_Value_StrictlyCriticalOrSheddable(string? value, bool expectedParsed, BulkheadCriticality expected)
    {
        // Act
        var parsed = CriticalityHeader.TryParse(value, out var criticality);

        // Assert
        Assert.Equal(expectedParsed, parsed);
        Assert.Equal(expected, criticality);
    }

    [Theory]
    [InlineData(BulkheadCriticality.Critical, "critical")]
    [InlineData(BulkheadCriticality.Sheddable, "sheddable")]
    public void ToValue_Criticality_RoundTrips(BulkheadCriticality criticality, string expected)
    {
        // Act
        var value = CriticalityHeader.ToValue(criticality);

        // Assert
        Assert.Equal(expected, value);
        Assert.True(CriticalityHeader.TryParse(value, out var parsed));
        Assert.Equal(criticality, parsed);
    }

    [Theory]
    [InlineData(null, BulkheadCriticality.Critical, BulkheadCriticality.Critical)]
    [InlineData(null, BulkheadCriticality.Sheddable, BulkheadCriticality.Sheddable)]
    [InlineData("critical", BulkheadCriticality.Sheddable, BulkheadCriticality.Critical)]
    [InlineData("sheddable", BulkheadCriticality.Critical, BulkheadCriticality.Sheddable)]
    public void ReadCriticality_HeaderAndDefault_MissingUsesDefaultSentValueWins(string? header, BulkheadCriticality whenMissing, BulkheadCriticality expected)
    {
        // Arrange
        var headers = new Metadata();
        if (header is not null)
        {
            headers.Add(MeshMetadata.Criticality, header);
        }

        // Act
        var criticality = BulkheadInterceptor.ReadCriticality(headers, whenMissing);

        // Assert
        Assert.Equal(expected, criticality);
    }

    [Theory]
    [InlineData("urgent")]
    [InlineData("critical ")]
    [InlineData("0")]
    public void ReadCriticality_UnknownValue_ThrowsInvalidArgumentNamingAllowedValues(string header)
    {
        // Arrange
        var headers = new Metadata { { MeshMetadata.Criticality, header } };

        // Act
        var error = Assert.Throws<RpcException>(() => BulkheadInterceptor.ReadCriticality(headers, BulkheadCriticality.Sheddable));

        // Assert: refused, not read as critical.
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("invalid-criticality", error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("'critical' or 'sheddable'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"'{header}'", error.Status.Detail, StringComparison.Ordinal);
    }
}
