namespace MeshBulkheads.EndToEnd.Tests.Autoscaling;

/// <summary>
/// The HorizontalPodAutoscaler's replica calculation for a Pods metric with an <c>AverageValue</c>
/// target (kube-controller-manager's replica calculator, without its missing-pod adjustments):
/// <c>desired = ceil(current × (mean of the pods' values) ÷ target)</c>, unchanged while the ratio is
/// within the 10 % tolerance. With several metrics the HPA takes the largest proposal.
/// </summary>
public static class HpaFormula
{
    /// <summary>kube-controller-manager's default <c>--horizontal-pod-autoscaler-tolerance</c>.</summary>
    public const double Tolerance = 0.1;

    public static int DesiredReplicas(int currentReplicas, IReadOnlyCollection<double> podValues, double target)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(target);
        if (podValues.Count == 0)
        {
            throw new ArgumentException("The HPA computes nothing without a value per pod.", nameof(podValues));
        }

        var ratio = podValues.Average() / target;
        return Math.Abs(ratio - 1) <= Tolerance ? currentReplicas : (int)Math.Ceiling(currentReplicas * ratio);
    }
}
