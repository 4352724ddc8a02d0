// What the audit trigger knows about an audited table, and how it turns rows
// into jsonb.
//
// Each column is classified once, the way to_jsonb() would treat its type:
// booleans, integers and numbers become JSON booleans and numbers, dates and
// timestamps ISO 8601 strings, text and uuid strings, jsonb is embedded.
// Every other type (arrays, composites, json, types with a cast to json, ...)
// is converted by PostgreSQL's own to_jsonb(), through an FmgrInfo prepared
// once for that column. The output is therefore the same as to_jsonb(row),
// without the per-row, per-column type lookups to_jsonb() does.
//
// This file is plain PostgreSQL code run through pg_call(); it creates no C++
// objects with destructors.
#include "audit_columns.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/uuid.h"
}

namespace tenancy::audit {

namespace {

// How a column's values become JSON.
enum class JsonKind : uint8 {
	boolean,  // JSON true/false
	integer,  // int2, int4, int8: JSON numbers
	number,   // numeric, float4, float8: JSON numbers, or strings for NaN/Infinity
	datetime, // date, timestamp, timestamptz: ISO 8601 strings
	jsonb,    // embedded as is
	text,     // text, varchar, bpchar: strings of the stored bytes
	uuid,     // strings in the canonical 8-4-4-4-12 form
	generic,  // everything else: PostgreSQL's to_jsonb()
};

// One column of an audited table.
struct AuditColumn {
	bool dropped;
	char name[NAMEDATALEN];
	Oid type;  // the base type (domains are looked through, as to_jsonb does)
	int16 typlen;
	bool typbyval;
	JsonKind kind;
	FmgrInfo convert; // output function (number) or to_jsonb (generic)
};

} // namespace

// Everything the trigger needs about one table; lives in its own memory context.
struct AuditTable {
	Oid relid;
	bool stale;
	MemoryContext context;
	char *qualified_name;
	AttrNumber tenant_attnum;
	int natts;
	AuditColumn *columns;
	int live;          // columns not dropped
	int *jsonb_order;  // their indexes, in jsonb's key order (length, then bytes)
	bool all_scalar;   // no column needs a nested jsonb container
};

namespace {

// An entry of the cache of audited tables, keyed by relation oid.
struct TableEntry {
	Oid relid;
	AuditTable *table;
};

HTAB *tables = nullptr;
Oid building_relid = InvalidOid; // the table whose description is being built
bool building_invalidated = false; // an invalidation concerned it meanwhile

// Returns the cache of audited tables, creating it on first use.
HTAB *table_cache()
{
	if (tables == nullptr) {
		HASHCTL control;
		control.keysize = sizeof(Oid);
		control.entrysize = sizeof(TableEntry);
		control.hcxt = CacheMemoryContext;
		tables = hash_create("pg_tenancy audited tables", 64, &control,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return tables;
}

// Chooses how values of a (base) type become JSON.
JsonKind kind_of(Oid type)
{
	switch (type) {
	case BOOLOID:
		return JsonKind::boolean;
	case INT2OID:
	case INT4OID:
	case INT8OID:
		return JsonKind::integer;
	case NUMERICOID:
	case FLOAT4OID:
	case FLOAT8OID:
		return JsonKind::number;
	case DATEOID:
	case TIMESTAMPOID:
	case TIMESTAMPTZOID:
		return JsonKind::datetime;
	case JSONBOID:
		return JsonKind::jsonb;
	case TEXTOID:
	case VARCHAROID:
	case BPCHAROID:
		return JsonKind::text;
	case UUIDOID:
		return JsonKind::uuid;
	default:
		return JsonKind::generic;
	}
}

// Prepares the conversion function of a column, in the table's context.
void prepare_conversion(AuditColumn *column, Oid declared_type, MemoryContext context)
{
	if (column->kind == JsonKind::number) {
		Oid output_function;
		bool is_varlena;
		getTypeOutputInfo(column->type, &output_function, &is_varlena);
		fmgr_info_cxt(output_function, &column->convert, context);
	} else if (column->kind == JsonKind::generic) {
		fmgr_info_cxt(F_TO_JSONB, &column->convert, context);
		MemoryContext previous = MemoryContextSwitchTo(context);
		// to_jsonb(anyelement) finds its argument's type in fn_expr.
		column->convert.fn_expr = (Node *) makeFuncExpr(
			F_TO_JSONB, JSONBOID, list_make1(makeNullConst(declared_type, -1, InvalidOid)),
			InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		MemoryContextSwitchTo(previous);
	}
}

// Says whether column a's name sorts before column b's name the way jsonb
// orders object keys: shorter first, then by bytes.
bool key_before(const AuditColumn &a, const AuditColumn &b)
{
	size_t length_a = strlen(a.name), length_b = strlen(b.name);
	if (length_a != length_b)
		return length_a < length_b;
	return memcmp(a.name, b.name, length_a) < 0;
}

// Records the live columns in jsonb key order, and whether all are scalars.
void order_columns(AuditTable *table)
{
	table->jsonb_order = static_cast<int *>(MemoryContextAlloc(table->context, sizeof(int) * Max(table->natts, 1)));
	table->live = 0;
	table->all_scalar = true;
	for (int i = 0; i < table->natts; i++) {
		const AuditColumn &column = table->columns[i];
		if (column.dropped)
			continue;
		if (column.kind == JsonKind::jsonb || column.kind == JsonKind::generic)
			table->all_scalar = false;
		int position = table->live++;
		while (position > 0 && key_before(column, table->columns[table->jsonb_order[position - 1]])) {
			table->jsonb_order[position] = table->jsonb_order[position - 1];
			position--;
		}
		table->jsonb_order[position] = i;
	}
}

// Builds the description of a table.
AuditTable *build_table(Relation rel, const char *tenant_column)
{
	MemoryContext context = AllocSetContextCreate(CacheMemoryContext, "pg_tenancy audit table",
												  ALLOCSET_SMALL_SIZES);
	AuditTable *table = static_cast<AuditTable *>(MemoryContextAllocZero(context, sizeof(AuditTable)));
	table->relid = RelationGetRelid(rel);
	table->context = context;
	table->qualified_name = MemoryContextStrdup(
		context, quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											RelationGetRelationName(rel)));
	TupleDesc desc = RelationGetDescr(rel);
	table->natts = desc->natts;
	table->columns = static_cast<AuditColumn *>(
		MemoryContextAllocZero(context, sizeof(AuditColumn) * Max(desc->natts, 1)));
	table->tenant_attnum = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute attribute = TupleDescAttr(desc, i);
		AuditColumn *column = &table->columns[i];
		column->dropped = attribute->attisdropped;
		if (column->dropped)
			continue;
		strlcpy(column->name, NameStr(attribute->attname), NAMEDATALEN);
		column->type = getBaseType(attribute->atttypid);
		column->typlen = attribute->attlen;
		column->typbyval = attribute->attbyval;
		column->kind = kind_of(column->type);
		prepare_conversion(column, attribute->atttypid, context);
		if (strcmp(column->name, tenant_column) == 0)
			table->tenant_attnum = attribute->attnum;
	}
	order_columns(table);
	if (table->tenant_attnum == InvalidAttrNumber)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
						errmsg("audited table %s has no column \"%s\"", table->qualified_name, tenant_column),
						errhint("Protect the table again with tenancy.protect().")));
	return table;
}

// Converts the output string of a number into a JSON number or string.
void number_from_text(char *text, JsonbValue *value)
{
	int length = static_cast<int>(strlen(text));
	if (IsValidJsonNumber(text, length)) {
		value->type = jbvNumeric;
		value->val.numeric = DatumGetNumeric(
			DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
								Int32GetDatum(-1)));
	} else {
		value->type = jbvString;
		value->val.string.val = text;
		value->val.string.len = length;
	}
}

// Formats a uuid as uuid_out() does: 8-4-4-4-12 lowercase hexadecimal.
char *format_uuid(const pg_uuid_t *uuid)
{
	static const char digits[] = "0123456789abcdef";
	char *text = static_cast<char *>(palloc(37));
	char *out = text;
	for (int i = 0; i < UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = digits[uuid->data[i] >> 4];
		*out++ = digits[uuid->data[i] & 0x0F];
	}
	*out = '\0';
	return text;
}

// Converts one column value into a scalar JsonbValue. Returns false for
// the kinds that become containers (jsonb, generic), which the caller
// pushes with push_value() instead.
bool scalar_value(const AuditColumn *column, Datum datum, bool isnull, JsonbValue *value)
{
	if (isnull) {
		value->type = jbvNull;
		return true;
	}
	switch (column->kind) {
	case JsonKind::boolean:
		value->type = jbvBool;
		value->val.boolean = DatumGetBool(datum);
		return true;
	case JsonKind::integer: {
		int64 number = column->type == INT2OID	 ? DatumGetInt16(datum)
					   : column->type == INT4OID ? DatumGetInt32(datum)
												 : DatumGetInt64(datum);
		value->type = jbvNumeric;
		value->val.numeric = int64_to_numeric(number);
		return true;
	}
	case JsonKind::number:
		number_from_text(OutputFunctionCall(const_cast<FmgrInfo *>(&column->convert), datum), value);
		return true;
	case JsonKind::datetime: {
		char buffer[MAXDATELEN + 1];
		char *text = JsonEncodeDateTime(buffer, datum, column->type, nullptr);
		value->type = jbvString;
		value->val.string.val = pstrdup(text);
		value->val.string.len = static_cast<int>(strlen(text));
		return true;
	}
	case JsonKind::text: {
		text *content = DatumGetTextPP(datum);
		value->type = jbvString;
		value->val.string.val = VARDATA_ANY(content);
		value->val.string.len = static_cast<int>(VARSIZE_ANY_EXHDR(content));
		return true;
	}
	case JsonKind::uuid:
		value->type = jbvString;
		value->val.string.val = format_uuid(DatumGetUUIDP(datum));
		value->val.string.len = 36;
		return true;
	case JsonKind::jsonb:
	case JsonKind::generic:
		return false;
	}
	return false;
}

// Pushes a jsonb document as the value of the current key.
void push_jsonb(JsonbParseState **state, Jsonb *document)
{
	JsonbValue value;
	value.type = jbvBinary;
	value.val.binary.data = &document->root;
	value.val.binary.len = VARSIZE(document) - VARHDRSZ;
	pushJsonbValue(state, WJB_VALUE, &value);
}

// Pushes one column value as JSON.
void push_value(JsonbParseState **state, AuditColumn *column, Datum datum, bool isnull)
{
	JsonbValue value;
	if (scalar_value(column, datum, isnull, &value))
		pushJsonbValue(state, WJB_VALUE, &value);
	else if (column->kind == JsonKind::jsonb)
		push_jsonb(state, DatumGetJsonbP(datum));
	else
		push_jsonb(state, DatumGetJsonbP(FunctionCall1(&column->convert, datum)));
}

// Builds a jsonb object directly from scalar values already in jsonb key
// order, without pushJsonbValue's bookkeeping and final sort.
Jsonb *object_of_scalars(const AuditTable *table, const int *columns, int count, const Datum *values,
						 const bool *nulls)
{
	JsonbPair *pairs = static_cast<JsonbPair *>(palloc(sizeof(JsonbPair) * Max(count, 1)));
	for (int i = 0; i < count; i++) {
		const AuditColumn &column = table->columns[columns[i]];
		pairs[i].key.type = jbvString;
		pairs[i].key.val.string.val = const_cast<char *>(column.name);
		pairs[i].key.val.string.len = static_cast<int>(strlen(column.name));
		scalar_value(&column, values[i], nulls[i], &pairs[i].value);
		pairs[i].order = static_cast<uint32>(i);
	}
	JsonbValue object;
	object.type = jbvObject;
	object.val.object.nPairs = count;
	object.val.object.pairs = pairs;
	return JsonbValueToJsonb(&object);
}

// Pushes the name of a column as the next key.
void push_key(JsonbParseState **state, AuditColumn *column)
{
	JsonbValue key;
	key.type = jbvString;
	key.val.string.val = column->name;
	key.val.string.len = static_cast<int>(strlen(column->name));
	pushJsonbValue(state, WJB_KEY, &key);
}

} // namespace

// Returns the cached description of a table. The description is built
// before it enters the cache: building reads catalogs, which can process
// invalidation messages, and one that concerns this table (or every table)
// marks the new description stale, to be built again at the next row.
const AuditTable *audit_table(Relation rel, const char *tenant_column)
{
	Oid relid = RelationGetRelid(rel);
	TableEntry *entry = static_cast<TableEntry *>(hash_search(table_cache(), &relid, HASH_FIND, nullptr));
	if (entry != nullptr && entry->table != nullptr && !entry->table->stale)
		return entry->table;

	building_relid = relid;
	building_invalidated = false;
	AuditTable *fresh = nullptr;
	PG_TRY();
	{
		fresh = build_table(rel, tenant_column);
	}
	PG_FINALLY();
	{
		building_relid = InvalidOid;
	}
	PG_END_TRY();
	fresh->stale = building_invalidated;

	bool found;
	entry = static_cast<TableEntry *>(hash_search(table_cache(), &relid, HASH_ENTER, &found));
	if (found && entry->table != nullptr)
		MemoryContextDelete(entry->table->context);
	entry->table = fresh;
	return fresh;
}

// Returns the table's qualified name.
const char *qualified_name(const AuditTable *table)
{
	return table->qualified_name;
}

// Returns the tenant of a row.
Datum row_tenant(const AuditTable *table, HeapTuple row, TupleDesc desc, bool *isnull)
{
	return heap_getattr(row, table->tenant_attnum, desc, isnull);
}

// Returns a row as a jsonb object.
Jsonb *row_to_jsonb(const AuditTable *table, HeapTuple row, TupleDesc desc)
{
	if (table->all_scalar && table->natts == desc->natts) {
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(table->live, 1)));
		bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(table->live, 1)));
		for (int i = 0; i < table->live; i++)
			values[i] = heap_getattr(row, table->jsonb_order[i] + 1, desc, &nulls[i]);
		return object_of_scalars(table, table->jsonb_order, table->live, values, nulls);
	}
	JsonbParseState *state = nullptr;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
	for (int i = 0; i < table->natts && i < desc->natts; i++) {
		AuditColumn *column = &table->columns[i];
		if (column->dropped)
			continue;
		bool isnull;
		Datum datum = heap_getattr(row, i + 1, desc, &isnull);
		push_key(&state, column);
		push_value(&state, column, datum, isnull);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, nullptr));
}

// Returns a jsonb object of the changed columns with their new values.
Jsonb *changed_columns_to_jsonb(const AuditTable *table, HeapTuple old_row, HeapTuple new_row,
								TupleDesc desc)
{
	if (table->all_scalar && table->natts == desc->natts) {
		int *changed = static_cast<int *>(palloc(sizeof(int) * Max(table->live, 1)));
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(table->live, 1)));
		bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(table->live, 1)));
		int count = 0;
		for (int i = 0; i < table->live; i++) {
			int index = table->jsonb_order[i];
			const AuditColumn &column = table->columns[index];
			bool old_null;
			Datum old_value = heap_getattr(old_row, index + 1, desc, &old_null);
			Datum new_value = heap_getattr(new_row, index + 1, desc, &nulls[count]);
			if (old_null == nulls[count] &&
				(old_null || datumIsEqual(old_value, new_value, column.typbyval, column.typlen)))
				continue;
			changed[count] = index;
			values[count] = new_value;
			count++;
		}
		return object_of_scalars(table, changed, count, values, nulls);
	}
	JsonbParseState *state = nullptr;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
	for (int i = 0; i < table->natts && i < desc->natts; i++) {
		AuditColumn *column = &table->columns[i];
		if (column->dropped)
			continue;
		bool old_null, new_null;
		Datum old_value = heap_getattr(old_row, i + 1, desc, &old_null);
		Datum new_value = heap_getattr(new_row, i + 1, desc, &new_null);
		bool same = old_null == new_null &&
					(old_null || datumIsEqual(old_value, new_value, column->typbyval, column->typlen));
		if (same)
			continue;
		push_key(&state, column);
		push_value(&state, column, new_value, new_null);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, nullptr));
}

// Marks cached descriptions stale, including one being built.
void forget_columns(Oid relid) noexcept
{
	if (relid == InvalidOid || relid == building_relid)
		building_invalidated = true;
	if (tables == nullptr)
		return;
	if (relid == InvalidOid) {
		HASH_SEQ_STATUS status;
		hash_seq_init(&status, tables);
		while (TableEntry *entry = static_cast<TableEntry *>(hash_seq_search(&status)))
			if (entry->table != nullptr)
				entry->table->stale = true;
		return;
	}
	TableEntry *entry = static_cast<TableEntry *>(hash_search(tables, &relid, HASH_FIND, nullptr));
	if (entry != nullptr && entry->table != nullptr)
		entry->table->stale = true;
}

} // namespace tenancy::audit
