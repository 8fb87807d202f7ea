using System.Buffers.Binary;
using System.Security.Cryptography;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Render.Tests.Rendering;

namespace MeshBulkheads.Render.Tests.Grpc;

public sealed class RenderGrpcServiceTests : IAsyncLifetime
{
    private KestrelHost? _host;
    private RenderService.RenderServiceClient? _client;

    private RenderService.RenderServiceClient Client => _client ?? throw new InvalidOperationException("Not initialised.");

    public async ValueTask InitializeAsync()
    {
        _host = await KestrelHost.StartAsync(RenderApp.Build, new Dictionary<string, string?>
        {
            ["Render:WorkerCount"] = "1",
            ["Render:MaxPixels"] = "262144",
        });
        _client = new RenderService.RenderServiceClient(_host.CreateChannel());
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Render_SameInputTwice_IdenticalBytesAndSha()
    {
        // Arrange
        var request = new RenderRequest { Width = 96, Height = 64, Iterations = 150 };

        // Act
        var first = await Client.RenderAsync(request, cancellationToken: TestContext.Current.CancellationToken);
        var second = await Client.RenderAsync(request, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(first.Png.ToByteArray(), second.Png.ToByteArray());
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Png.ToByteArray())), first.Sha256);
        Assert.Matches("^[0-9a-f]{64}$", first.Sha256);
    }

    [Fact]
    public async Task Render_ExplicitSize_PngHeaderHasThoseDimensions()
    {
        // Arrange
        var request = new RenderRequest { Width = 120, Height = 45, Iterations = 50 };

        // Act
        var response = await Client.RenderAsync(request, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        var chunks = PngTestReader.ReadChunks(response.Png.ToByteArray());
        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Equal(120, BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data));
        Assert.Equal(45, BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data.AsSpan(4)));
        Assert.Equal(8, chunks[0].Data[8]);
        Assert.Equal(2, chunks[0].Data[9]);
    }

    [Fact]
    public async Task Render_DifferentInput_DifferentImage()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;

        // Act
        var baseline = await Client.RenderAsync(new RenderRequest { Width = 64, Height = 64, Iterations = 100 }, cancellationToken: ct);
        var moreIterations = await Client.RenderAsync(new RenderRequest { Width = 64, Height = 64, Iterations = 101 }, cancellationToken: ct);
        var otherSize = await Client.RenderAsync(new RenderRequest { Width = 65, Height = 64, Iterations = 100 }, cancellationToken: ct);

        // Assert
        Assert.NotEqual(baseline.Sha256, moreIterations.Sha256);
        Assert.NotEqual(baseline.Sha256, otherSize.Sha256);
        Assert.NotEqual(baseline.Png, moreIterations.Png);
    }

    [Fact]
    public async Task Render_Zeros_UsesDefaults()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;

        // Act
        var zeros = await Client.RenderAsync(new RenderRequest(), cancellationToken: ct);
        var explicitDefaults = await Client.RenderAsync(new RenderRequest { Width = 256, Height = 256, Iterations = 200 }, cancellationToken: ct);

        // Assert
        var ihdr = PngTestReader.ReadChunks(zeros.Png.ToByteArray())[0].Data;
        Assert.Equal(256, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(256, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal(explicitDefaults.Sha256, zeros.Sha256);
    }

    public static TheoryData<int, int, int, string> InvalidRequests => new()
    {
        { -1, 10, 10, "width must be between 0 and 2048" },
        { 2049, 10, 10, "width must be between 0 and 2048" },
        { 10, -1, 10, "height must be between 0 and 2048" },
        { 10, 2049, 10, "height must be between 0 and 2048" },
        { 10, 10, -1, "iterations must be between 0 and 5000" },
        { 10, 10, 5001, "iterations must be between 0 and 5000" },
        // MaxPixels is 262144 in this fixture: 1024 × 512 = 524288 is over, although each side is allowed.
        { 1024, 512, 10, "width × height must be at most 262144 pixels" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Render_OutOfRange_InvalidArgumentNamingField(int width, int height, int iterations, string expected)
    {
        // Arrange
        var request = new RenderRequest { Width = width, Height = height, Iterations = iterations };

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(
            () => Client.RenderAsync(request, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }
}
