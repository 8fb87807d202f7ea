namespace MeshBulkheads.Render.Rendering;

/// <summary>
/// A deterministic escape-time Mandelbrot renderer: double and integer arithmetic only (no
/// randomness, no clock, no transcendental functions), so the same input gives the same pixels.
/// </summary>
public static class MandelbrotRenderer
{
    // Bailout radius R = 16 (R² = 256): large enough that |z|² right after escape lies in
    // [R², R⁴] and the linear "smooth" fraction below behaves.
    private const double BailoutSquared = 256.0;
    private const double BailoutFourth = BailoutSquared * BailoutSquared;

    // The classic view: real axis −2.5 … 1.0, centred on the imaginary axis.
    private const double CenterX = -0.75;
    private const double CenterY = 0.0;
    private const double ViewWidth = 3.5;

    /// <summary>Renders 8-bit RGB pixels, row-major, 3 bytes per pixel.</summary>
    /// <param name="parameters">Validated sizes.</param>
    /// <param name="rgb">Receives width × height × 3 bytes.</param>
    /// <param name="cancellationToken">Checked once per row, so a cancelled render stops within a row.</param>
    /// <returns>The number of inner-loop iterations executed: the render's cost.</returns>
    public static long Render(RenderParameters parameters, Span<byte> rgb, CancellationToken cancellationToken)
    {
        var (width, height, _) = parameters;
        if (rgb.Length < checked(width * height * 3))
        {
            throw new ArgumentException("The pixel buffer is smaller than width × height × 3.", nameof(rgb));
        }

        long total = 0;
        for (var y = 0; y < height; y++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            total += RenderRow(parameters, y, rgb.Slice(y * width * 3, width * 3));
        }

        return total;
    }

    /// <summary>Renders row <paramref name="y"/> alone: the same pixels <see cref="Render"/> writes for that row.</summary>
    /// <param name="parameters">Validated sizes.</param>
    /// <param name="y">The row, 0 at the top.</param>
    /// <param name="row">Receives width × 3 bytes.</param>
    /// <returns>The number of inner-loop iterations executed.</returns>
    public static long RenderRow(RenderParameters parameters, int y, Span<byte> row)
    {
        var (width, height, maxIterations) = parameters;
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, height);
        if (row.Length < width * 3)
        {
            throw new ArgumentException("The row buffer is smaller than width × 3.", nameof(row));
        }

        // Square pixels: the vertical extent follows the aspect ratio.
        var scale = ViewWidth / width;
        var left = CenterX - (ViewWidth / 2);
        var top = CenterY + (scale * height / 2);
        var ci = top - (y * scale);
        long total = 0;
        for (var x = 0; x < width; x++)
        {
            var cr = left + (x * scale);
            double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
            var n = 0;
            while (n < maxIterations && zr2 + zi2 <= BailoutSquared)
            {
                zi = (2 * zr * zi) + ci;
                zr = zr2 - zi2 + cr;
                zr2 = zr * zr;
                zi2 = zi * zi;
                n++;
            }

            total += n;
            WriteColor(row.Slice(x * 3, 3), n, maxIterations, zr2 + zi2);
        }

        return total;
    }

    private static void WriteColor(Span<byte> pixel, int n, int maxIterations, double magnitudeSquared)
    {
        if (n >= maxIterations)
        {
            // Inside the set.
            pixel[0] = 0;
            pixel[1] = 0;
            pixel[2] = 0;
            return;
        }

        // Smooth colouring without logarithms: right after escape |z|² lies in roughly [R², R⁴];
        // its position there approximates the fractional escape count.
        var fraction = (magnitudeSquared - BailoutSquared) / (BailoutFourth - BailoutSquared);
        fraction = Math.Clamp(fraction, 0.0, 1.0);
        var t = Math.Clamp((n + 1 - fraction) / maxIterations, 0.0, 1.0);
        var u = 1 - t;

        // Bernstein-polynomial palette: dark blue → orange → yellow.
        pixel[0] = ToByte(9 * u * t * t * t);
        pixel[1] = ToByte(15 * u * u * t * t);
        pixel[2] = ToByte(8.5 * u * u * u * t);
    }

    private static byte ToByte(double value) => (byte)Math.Clamp((int)(value * 255.0), 0, 255);
}
