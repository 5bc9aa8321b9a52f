"""Knowledge distillation (Hinton, Vinyals and Dean, 2015): a small student learns from a large teacher's soft outputs.

A trained teacher says more than the label: for a handwritten 7 it gives "7: 0.90, 1: 0.07,
9: 0.02, …", and the small probabilities tell which classes look alike. The student is trained
to match those probabilities as well as the labels:

    loss = α · T² · KL(p_teacher^T ‖ p_student^T)  +  (1 − α) · CE(student logits, labels)

    p^T = softmax(z / T)   (the temperature T > 1 softens the distribution, so the small
                            probabilities, the "dark knowledge", carry weight)

Why T²: with u = student logits and v = teacher logits, the gradient of the KL term is

    ∂KL/∂uᵢ = (pᵢ^T(u) − pᵢ^T(v)) / T

and for large T, softmax(z/T) ≈ (1 + zᵢ/T)/N (logits of mean 0 over N classes), so

    ∂KL/∂uᵢ ≈ (uᵢ − vᵢ) / (N T²):

the soft term's gradients shrink like 1/T². Multiplying by T² keeps their size the same for
every temperature, so α alone sets the balance between the two terms and changing T does
not silently switch the soft targets off. (Lesson 24 measures this.)
"""

from __future__ import annotations

from .nn import functional as F
from .tensor import Tensor


def distillation_loss(
    student_logits: Tensor, teacher_logits: Tensor, target: Tensor | None = None, T: float = 4.0, alpha: float = 0.9
) -> Tensor:
    """α · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α) · cross_entropy(student, target).

    ``teacher_logits`` should come from the teacher in eval mode under ``no_grad`` (they are
    detached here all the same). Without ``target`` only the soft term is used (α = 1).
    """
    if T <= 0:
        raise ValueError(f"distillation_loss: the temperature T must be positive, got {T}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must lie in [0, 1], got {alpha}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"distillation_loss: student logits {student_logits.shape} and teacher logits "
            f"{teacher_logits.shape} must have the same shape"
        )
    soft = F.kl_div(
        F.log_softmax(student_logits / T, dim=-1),
        F.log_softmax(teacher_logits.detach() / T, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * (T * T)
    if target is None or alpha == 1.0:
        return soft
    return alpha * soft + (1.0 - alpha) * F.cross_entropy(student_logits, target)
