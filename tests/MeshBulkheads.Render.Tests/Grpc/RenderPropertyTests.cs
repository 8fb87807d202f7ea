using System.Buffers.Binary;
using System.Security.Cryptography;
using CsCheck;
using MeshBulkheads.Contracts.Render.V1;

namespace MeshBulkheads.Render.Tests.Grpc;

/// <summary>
/// Property-based tests of <c>Render</c> on a real render host (real Kestrel, real workers): every field drawn from
/// explicit edge classes around the host's own configured limits (at, just over, far over, zero = default, negative,
/// <see cref="int.MinValue"/>/<see cref="int.MaxValue"/>), each answer compared with an independent model of the
/// documented rules (proto and README: each field 0..max with 0 the default, then width × height ≤ MaxPixels).
/// </summary>
public sealed class RenderPropertyTests
{
    private const int Cases = 1_000;

    [Fact]
    public async Task Render_GeneratedSizes_AnswerTheDocumentedStatusAndAValidImage()
    {
        // Arrange: MaxPixels below MaxWidth × MaxHeight so the pixel rule is reachable on its own; the tenant work
        // budget off so a thousand back-to-back renders measure validation, not the budget.
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new Dictionary<string, string?>
        {
            ["Render:WorkerCount"] = "1",
            ["Render:MaxPixels"] = "131072",
            ["Render:TenantWorkBudget:Enabled"] = "false",
        });
        var limits = render.Host.Services.GetRequiredService<IOptions<RenderOptions>>().Value;
        var classes = new SortedDictionary<string, int>(StringComparer.Ordinal);

        // Act
        var cases = await PropertyRun.CheckAsync(
            nameof(RenderPropertyTests),
            Requests(limits),
            Cases,
            async request =>
            {
                var expected = Expect(request, limits);
                RenderResponse? response = null;
                RpcException? error = null;
                try
                {
                    response = await render.Client.RenderAsync(request, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();
                }
                catch (RpcException e)
                {
                    error = e;
                }

                var what = $"{expected.Code} {expected.Field}";
                classes[what] = classes.GetValueOrDefault(what) + 1;

                // Assert (per case)
                var actual = error is null ? "OK" : $"{error.StatusCode}: {error.Status.Detail}";
                Assert.True(expected.Code == (error?.StatusCode ?? StatusCode.OK), $"Expected {expected.Code} ({expected.Field}), got {actual}.");
                if (error is not null)
                {
                    Assert.True(error.Status.Detail.Contains(expected.Field, StringComparison.Ordinal), $"The message must name {expected.Field}: {error.Status.Detail}");
                    Assert.True(error.Status.Detail.Contains(expected.Limit, StringComparison.Ordinal), $"The message must state the limit {expected.Limit}: {error.Status.Detail}");
                    return;
                }

                var png = response!.Png.ToByteArray();
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(png)), response.Sha256);
                Assert.True(png.AsSpan().StartsWith(PngSignature), "The image must be a PNG.");
                Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
                Assert.Equal((expected.Width, expected.Height), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
            },
            r => $"width {r.Width}, height {r.Height}, iterations {r.Iterations}");

        // Assert
        TestContext.Current.TestOutputHelper?.WriteLine($"{cases} Render calls: " + string.Join(", ", classes.Select(c => $"{c.Key} {c.Value}")));
        Assert.Equal(Cases, cases);
    }

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // ---- The model: the proto's and README's rules, in the documented order. ----

    private sealed record Expected(StatusCode Code, string Field, string Limit, int Width = 0, int Height = 0);

    private static Expected Expect(RenderRequest request, RenderOptions limits)
    {
        // Each field: 0 means the default, 1..max is itself, anything else is INVALID_ARGUMENT naming the field and its range.
        foreach (var (field, value, max) in new[]
        {
            ("width", request.Width, limits.MaxWidth),
            ("height", request.Height, limits.MaxHeight),
            ("iterations", request.Iterations, limits.MaxIterations),
        })
        {
            if (value < 0 || value > max)
            {
                return new(StatusCode.InvalidArgument, field, $"between 0 and {max}");
            }
        }

        var width = request.Width == 0 ? RenderOptions.DefaultWidth : request.Width;
        var height = request.Height == 0 ? RenderOptions.DefaultHeight : request.Height;
        if ((long)width * height > limits.MaxPixels)
        {
            return new(StatusCode.InvalidArgument, "width × height", $"at most {limits.MaxPixels}");
        }

        return new(StatusCode.OK, "valid", string.Empty, width, height);
    }

    // ---- Generators, built from the host's limits. ----

    /// <summary>
    /// Requests that are mostly cheap to render when valid: one field (or the pixel product) at an edge while the
    /// others stay small, so a valid render costs at most max × 32 × 50 work units.
    /// </summary>
    private static Gen<RenderRequest> Requests(RenderOptions limits)
    {
        Gen<int> Edge(int max) => Gen.Frequency(
            (3, Gen.Const(max)),
            (3, Gen.Const(max + 1)),
            (1, Gen.Int[max + 2, (int)Math.Min(int.MaxValue, max * 4L)]),
            (1, Gen.Const(int.MaxValue)),
            (2, Gen.Const(0)),
            (1, Gen.Const(1)),
            (2, Gen.Const(-1)),
            (1, Gen.Int[int.MinValue, -2]),
            (1, Gen.Const(int.MinValue)));

        var small = Gen.Int[1, 32];
        var smallIterations = Gen.Int[1, 50];
        var maxPixels = (int)Math.Min(limits.MaxPixels, int.MaxValue);

        // width × height at, just over and far over MaxPixels, every side within its own maximum.
        var pixels = Gen.Frequency(
            (2, Gen.Int[1, 64].Select(h => (W: (int)Math.Min(limits.MaxWidth, maxPixels / h), H: h))),
            (2, Gen.Const((W: limits.MaxWidth, H: (int)(maxPixels / limits.MaxWidth)))),
            (3, Gen.Const((W: limits.MaxWidth, H: (int)(maxPixels / limits.MaxWidth) + 1))),
            (1, Gen.Const((W: (int)(maxPixels / limits.MaxHeight) + 1, H: limits.MaxHeight))),
            (1, Gen.Const((W: limits.MaxWidth, H: limits.MaxHeight))),
            (1, Gen.Int[2, 64].Select(h => (W: 0, H: (maxPixels / RenderOptions.DefaultWidth) + h))));

        return Gen.Frequency(
            (5, Gen.Select(small, small, smallIterations, (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })),
            (3, Gen.Select(Edge(limits.MaxWidth), small, smallIterations, (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })),
            (3, Gen.Select(small, Edge(limits.MaxHeight), smallIterations, (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })),
            (3, Gen.Select(small, small, Edge(limits.MaxIterations), (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })),
            (3, Gen.Select(pixels, Gen.Int[1, 2], (p, i) => new RenderRequest { Width = p.W, Height = p.H, Iterations = i })),
            (1, Gen.Select(Gen.Int[0, 8], Gen.Int[0, 8], Gen.Int[0, 1], (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })),
            (2, Gen.Select(Gen.Int, Gen.Int, Gen.Int, (w, h, i) => new RenderRequest { Width = w, Height = h, Iterations = i })));
    }
}
