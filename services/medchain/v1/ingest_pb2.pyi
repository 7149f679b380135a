from medchain.v1 import tensor_pb2 as _tensor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Code(_message.Message):
    __slots__ = ("system", "code")
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    system: str
    code: str
    def __init__(self, system: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ObservationFeature(_message.Message):
    __slots__ = ("name", "loinc", "system", "unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LOINC_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    loinc: str
    system: str
    unit: str
    def __init__(self, name: _Optional[str] = ..., loinc: _Optional[str] = ..., system: _Optional[str] = ..., unit: _Optional[str] = ...) -> None: ...

class ConditionFlag(_message.Message):
    __slots__ = ("name", "codes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    name: str
    codes: _containers.RepeatedCompositeFieldContainer[Code]
    def __init__(self, name: _Optional[str] = ..., codes: _Optional[_Iterable[_Union[Code, _Mapping]]] = ...) -> None: ...

class LabelDefinition(_message.Message):
    __slots__ = ("name", "source", "threshold")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    threshold: float
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ..., threshold: _Optional[float] = ...) -> None: ...

class FeatureSpec(_message.Message):
    __slots__ = ("observations", "conditions", "include_age", "include_sex", "label", "reference_date")
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_AGE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SEX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    observations: _containers.RepeatedCompositeFieldContainer[ObservationFeature]
    conditions: _containers.RepeatedCompositeFieldContainer[ConditionFlag]
    include_age: bool
    include_sex: bool
    label: LabelDefinition
    reference_date: str
    def __init__(self, observations: _Optional[_Iterable[_Union[ObservationFeature, _Mapping]]] = ..., conditions: _Optional[_Iterable[_Union[ConditionFlag, _Mapping]]] = ..., include_age: bool = ..., include_sex: bool = ..., label: _Optional[_Union[LabelDefinition, _Mapping]] = ..., reference_date: _Optional[str] = ...) -> None: ...

class CohortRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: FeatureSpec
    def __init__(self, spec: _Optional[_Union[FeatureSpec, _Mapping]] = ...) -> None: ...

class CohortResponse(_message.Message):
    __slots__ = ("pseudonyms", "columns", "label")
    PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    columns: _containers.RepeatedScalarFieldContainer[str]
    label: str
    def __init__(self, pseudonyms: _Optional[_Iterable[str]] = ..., columns: _Optional[_Iterable[str]] = ..., label: _Optional[str] = ...) -> None: ...

class FeatureRowsRequest(_message.Message):
    __slots__ = ("spec", "pseudonyms", "batch_size")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    spec: FeatureSpec
    pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    batch_size: int
    def __init__(self, spec: _Optional[_Union[FeatureSpec, _Mapping]] = ..., pseudonyms: _Optional[_Iterable[str]] = ..., batch_size: _Optional[int] = ...) -> None: ...

class FeatureBatch(_message.Message):
    __slots__ = ("pseudonyms", "features", "label")
    PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    features: _tensor_pb2.TensorSet
    label: _tensor_pb2.Tensor
    def __init__(self, pseudonyms: _Optional[_Iterable[str]] = ..., features: _Optional[_Union[_tensor_pb2.TensorSet, _Mapping]] = ..., label: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ...) -> None: ...
