"""One race: the learner's settings, validated, and every optimizer's path from them."""

from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Le
from pydantic import AfterValidator, BaseModel, Field, Strict, create_model, model_validator
from pydantic.fields import FieldInfo

from app.calculators.types import Inputs, InvalidInput
from app.playground.simulation import MAX_STEPS, OPTIMIZERS, Optimizer, Path, run
from app.playground.surfaces import Point, Surface, SurfaceId, surface

MAX_KAPPA = 1000.0
MAX_LEARNING_RATE = 10.0
"""Far past where every optimizer here leaves the plot in one step; keeps the schema exact."""
WIDEST_BOX = 4.5
"""Half the side of the largest plotted box (Beale's): a start beyond it fits no surface."""
Coordinate = Annotated[
    float, Field(ge=-WIDEST_BOX, le=WIDEST_BOX, allow_inf_nan=False, strict=True)
]


def _hyper_parameter_model(optimizer: Optimizer) -> type[BaseModel]:
    """The optimizer's hyper-parameters with the bounds and help of its calculator's inputs.

    Left out, a hyper-parameter takes the surface's default. Numbers are strict (no `true`
    for 1), and the learning rate gets a ceiling: then every bound is a plain JSON Schema
    one and the calculators' hidden magnitude cap (a validator) is never what refuses.
    """
    fields = optimizer.calculator.input_model.model_fields

    def field(name: str) -> tuple[Any, FieldInfo]:
        original = fields[name]
        bounds = [item for item in original.metadata if not isinstance(item, AfterValidator)]
        if name == "lr":
            bounds.append(Le(MAX_LEARNING_RATE))
        help_text = {
            "description": original.description,
            "json_schema_extra": original.json_schema_extra,
        }
        return Annotated[(float, *bounds, Strict())], Field(None, **help_text)

    return create_model(
        f"{optimizer.id.capitalize()}HyperParameters",
        __base__=Inputs,
        **{name: field(name) for name in optimizer.hyper_parameters},
    )


HYPER_PARAMETERS = {optimizer.id: _hyper_parameter_model(optimizer) for optimizer in OPTIMIZERS}


class PlaygroundInputs(Inputs):
    # Not strict: the form gives the surface's name as text, which strict mode would refuse
    # for not being a SurfaceId already (JSON input is read by name either way).
    surface: SurfaceId = Field(SurfaceId.ROSENBROCK, strict=False, description="The loss surface")
    kappa: float = Field(
        10.0,
        ge=1,
        le=MAX_KAPPA,
        allow_inf_nan=False,
        strict=True,
        description="Condition number κ of the quadratic bowl ½(x² + κy²)",
    )
    start_x: Coordinate | None = Field(None, description="x of the start (default per surface)")
    start_y: Coordinate | None = Field(None, description="y of the start (default per surface)")
    steps: int = Field(
        200, ge=1, le=MAX_STEPS, strict=True, description=f"Steps to take (≤ {MAX_STEPS})"
    )
    sgd: HYPER_PARAMETERS["sgd"] = Field(default_factory=HYPER_PARAMETERS["sgd"])  # type: ignore[valid-type]
    momentum: HYPER_PARAMETERS["momentum"] = Field(default_factory=HYPER_PARAMETERS["momentum"])  # type: ignore[valid-type]
    nesterov: HYPER_PARAMETERS["nesterov"] = Field(default_factory=HYPER_PARAMETERS["nesterov"])  # type: ignore[valid-type]
    adagrad: HYPER_PARAMETERS["adagrad"] = Field(default_factory=HYPER_PARAMETERS["adagrad"])  # type: ignore[valid-type]
    rmsprop: HYPER_PARAMETERS["rmsprop"] = Field(default_factory=HYPER_PARAMETERS["rmsprop"])  # type: ignore[valid-type]
    adam: HYPER_PARAMETERS["adam"] = Field(default_factory=HYPER_PARAMETERS["adam"])  # type: ignore[valid-type]

    @property
    def loss_surface(self) -> Surface:
        return surface(self.surface, self.kappa)

    @property
    def start(self) -> Point:
        default_x, default_y = self.loss_surface.start
        return (
            default_x if self.start_x is None else self.start_x,
            default_y if self.start_y is None else self.start_y,
        )

    @model_validator(mode="after")
    def _start_inside_the_box(self) -> "PlaygroundInputs":
        box = self.loss_surface.box
        x, y = self.start
        if not box.x_min <= x <= box.x_max:
            raise InvalidInput("start_x", f"must lie in the plotted box [{box.x_min}, {box.x_max}]")
        if not box.y_min <= y <= box.y_max:
            raise InvalidInput("start_y", f"must lie in the plotted box [{box.y_min}, {box.y_max}]")
        return self

    def hyper_parameters(self, optimizer: Optimizer) -> dict[str, float]:
        """The learner's values over the surface's defaults and the calculator's own."""
        chosen: BaseModel = getattr(self, optimizer.id)
        return {
            **_calculator_defaults(optimizer),
            **self.loss_surface.defaults.get(optimizer.id, {}),
            **chosen.model_dump(exclude_none=True),
        }


def _calculator_defaults(optimizer: Optimizer) -> dict[str, Any]:
    fields = optimizer.calculator.input_model.model_fields
    return {name: fields[name].default for name in optimizer.hyper_parameters}


@dataclass(frozen=True)
class Race:
    surface: Surface
    kappa: float
    start: Point
    steps: int
    paths: list[Path]


def race(inputs: PlaygroundInputs) -> Race:
    """Every optimizer from the same start on the same surface."""
    loss_surface, start = inputs.loss_surface, inputs.start
    paths = [
        run(optimizer, loss_surface, start, inputs.hyper_parameters(optimizer), inputs.steps)
        for optimizer in OPTIMIZERS
    ]
    return Race(loss_surface, inputs.kappa, start, inputs.steps, paths)
