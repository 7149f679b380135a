from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsentSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_SOURCE_UNSPECIFIED: _ClassVar[ConsentSource]
    CONSENT_SOURCE_CACHE: _ClassVar[ConsentSource]
    CONSENT_SOURCE_LEDGER: _ClassVar[ConsentSource]
CONSENT_SOURCE_UNSPECIFIED: ConsentSource
CONSENT_SOURCE_CACHE: ConsentSource
CONSENT_SOURCE_LEDGER: ConsentSource

class FilterPermittedRequest(_message.Message):
    __slots__ = ("study", "pseudonyms", "from_ledger", "min_block_height")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    FROM_LEDGER_FIELD_NUMBER: _ClassVar[int]
    MIN_BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    study: str
    pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    from_ledger: bool
    min_block_height: int
    def __init__(self, study: _Optional[str] = ..., pseudonyms: _Optional[_Iterable[str]] = ..., from_ledger: bool = ..., min_block_height: _Optional[int] = ...) -> None: ...

class FilterPermittedResponse(_message.Message):
    __slots__ = ("study", "permitted", "block_height", "as_of", "source")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    PERMITTED_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    study: str
    permitted: _containers.RepeatedScalarFieldContainer[str]
    block_height: int
    as_of: str
    source: ConsentSource
    def __init__(self, study: _Optional[str] = ..., permitted: _Optional[_Iterable[str]] = ..., block_height: _Optional[int] = ..., as_of: _Optional[str] = ..., source: _Optional[_Union[ConsentSource, str]] = ...) -> None: ...
