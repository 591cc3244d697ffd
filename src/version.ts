/** Version of this toolkit, recorded in every result file. */
export const TOOLKIT_VERSION = "0.1.0";
