// The video table: Quasar's QTable whose page the server patches with `patch(...)` (see video_table.py),
// so a refresh sends only the rows that changed instead of the whole element (columns, slots, every row).
// The element's own props (`rows`, `pagination`) stay the truth for a full render: they replace the shown
// page whenever the server sends the whole element.
// The no-op `update:pagination` listener keeps QTable's pagination controlled by the `pagination` given here
// (Vue does not pass the element's own `onUpdate:pagination` through, as this component declares the prop);
// every page, sort or size change reaches the server as a `request` event instead.
export default {
  template: `
    <q-table ref="qRef" :columns="columns" :rows="shownRows" :pagination="shownPagination"
      @update:pagination="() => {}">
      <template v-for="(_, slot) in $slots" v-slot:[slot]="slotProps">
        <slot :name="slot" v-bind="slotProps || {}" />
      </template>
    </q-table>
  `,
  props: {
    columns: Array,
    rows: Array,
    pagination: Object,
    fields: Array,
  },
  data() {
    return { shownRows: this.rows, shownPagination: this.pagination };
  },
  watch: {
    rows(value) {
      this.shownRows = value;
    },
    pagination(value) {
      this.shownPagination = value;
    },
  },
  methods: {
    // length: the page's row count; changes: [index, values in `fields` order (a new row) or {field: value}
    // (the changed fields of the row already there)]; pagination: the new pagination, or null if unchanged
    patch(length, changes, pagination) {
      const rows = this.shownRows.slice(0, length);
      for (const [i, values] of changes) {
        rows[i] = Array.isArray(values)
          ? Object.fromEntries(this.fields.map((field, k) => [field, values[k]]))
          : { ...rows[i], ...values };
      }
      this.shownRows = rows;
      if (pagination) this.shownPagination = pagination;
    },
  },
};
