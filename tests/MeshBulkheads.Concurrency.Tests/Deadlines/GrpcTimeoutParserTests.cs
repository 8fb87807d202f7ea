using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Tests.Deadlines;

public sealed class GrpcTimeoutParserTests
{
    public static TheoryData<string, long> ValidValues => new()
    {
        { "1H", TimeSpan.TicksPerHour },
        { "2M", 2 * TimeSpan.TicksPerMinute },
        { "3S", 3 * TimeSpan.TicksPerSecond },
        { "500m", 500 * TimeSpan.TicksPerMillisecond },
        { "250u", 250 * TimeSpan.TicksPerMicrosecond },
        { "1n", 1 },
        { "1000n", 10 },
        { "99999999S", 99_999_999 * TimeSpan.TicksPerSecond },
        { "99999999H", 99_999_999 * TimeSpan.TicksPerHour },
    };

    [Theory]
    [MemberData(nameof(ValidValues))]
    public void Parse_ValidUnits_ReturnsTimeout(string value, long expectedTicks)
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(value, out var timeout);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Valid, result);
        Assert.Equal(expectedTicks, timeout.Ticks);
    }

    [Theory]
    [InlineData("0S", GrpcTimeoutParseResult.NonPositive)]
    [InlineData("0m", GrpcTimeoutParseResult.NonPositive)]
    [InlineData("00000000n", GrpcTimeoutParseResult.NonPositive)]
    [InlineData("-1S", GrpcTimeoutParseResult.NonPositive)]
    [InlineData("-500m", GrpcTimeoutParseResult.NonPositive)]
    [InlineData("", GrpcTimeoutParseResult.Malformed)]
    [InlineData("S", GrpcTimeoutParseResult.Malformed)]
    [InlineData("100", GrpcTimeoutParseResult.Malformed)]
    [InlineData("100s", GrpcTimeoutParseResult.Malformed)]
    [InlineData("100x", GrpcTimeoutParseResult.Malformed)]
    [InlineData("123456789S", GrpcTimeoutParseResult.Malformed)]
    [InlineData("1.5S", GrpcTimeoutParseResult.Malformed)]
    [InlineData(" 1S", GrpcTimeoutParseResult.Malformed)]
    [InlineData("1 S", GrpcTimeoutParseResult.Malformed)]
    [InlineData("abc", GrpcTimeoutParseResult.Malformed)]
    [InlineData("-", GrpcTimeoutParseResult.Malformed)]
    [InlineData("+1S", GrpcTimeoutParseResult.Malformed)]
    public void Parse_ZeroNegativeOrGarbage_ReturnsNonPositiveOrMalformed(string value, GrpcTimeoutParseResult expected)
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(value, out _);

        // Assert
        Assert.Equal(expected, result);
    }

    [Fact]
    public void Parse_Null_ReturnsAbsent()
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(null, out var timeout);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Absent, result);
        Assert.Equal(TimeSpan.Zero, timeout);
    }
}
